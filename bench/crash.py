#!/usr/bin/env python3
"""Crash harness (issue #9): nothing answered with success is lost under kill -9.

    python3 bench/crash.py --binary target/release/casefile --cycles 100 [--seed 1]

Runs `casefile serve` over one data folder against a real SMTP server
(aiosmtpd 1.4.6, in this process, on a loopback port, writing a Maildir), puts
write load on every public form (newsletter sign-ups and their confirmation
links, contact messages, petition signatures and their confirmation links,
"my data" requests followed by the erasure), kills the server with SIGKILL,
checks the database, restarts it, and repeats. After the last cycle the
server is started once more, left to send what is still queued, and stopped
with SIGTERM; then the mail is tallied.

Each cycle kills in one of four ways, in turn:

- random: at a random moment 0.3-2.5 s into the load.
- smtp-data: the SMTP server holds the next DATA for 0.5 s and the server is
  killed inside that pause, before the SMTP server has answered: the mail
  is not accepted (aiosmtpd drops a DATA whose client went away) and must
  go out once after the restart.
- checkpoint: the harness reads the SQLite WAL index (`casefile.db-shm`)
  every few tenths of a millisecond and kills as soon as a checkpoint has
  begun copying the log back into casefile.db (nBackfillAttempted rises
  above nBackfill; see WalWatch). Under this load checkpoints come several
  times a second: SQLite's own every 1,000 log pages, and the one Casefile
  runs after each erasure. After every kill, whatever the mode, the WAL
  index says whether a checkpoint was left unfinished; the summary counts
  them.
- smtp-accepted: the SMTP server stores the next mail, writes its "250" and
  kills the server right after, before Casefile can record the mail as
  sent. This aims at the one window the design cannot close: the mail went
  out but the outbox does not know, so it goes out again after the restart
  (at-least-once; the Message-ID is the same, so receivers can drop it).

"Acknowledged" means the form post was answered 303 to its thanks page, a
confirmation or erasure post 200. The harness records every submission
before it is sent, so after each kill it knows which were acknowledged,
which were refused, and which were cut off (outcome unknown). On a copy of
the database files left by the kill (the originals are what the restart
recovers from) it checks: `PRAGMA integrity_check` is ok; every
acknowledged submission is there in full (its rows and its outbox mail);
nothing is there twice; a submission cut off by the kill is there in full
or not at all; an acknowledged erasure left nothing about the address.
Submissions are never retried, except that a mailed link whose use was cut
off is used again after the restart (as a person would click it again).

Mail: every acknowledged submission's mail must arrive exactly once
(counted by Message-ID in the Maildir). A second delivery counts as the
known at-least-once limit only if, at a kill, the database held the mail
as `sending` while the SMTP server had already stored it during that run
(accepted, not yet recorded); any other duplicate is a failure.

Exits 1 on any loss, duplicate row, partial submission, failed integrity
check, lost mail or duplicate mail outside that window. Uses loopback only
and removes its child process and temporary folder on any exit (--keep keeps
the folder for inspection). Load is random (threads interleave), so two runs
with one seed differ in detail.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import email
import email.policy
import html
import http.client
import mailbox
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

try:
    from aiosmtpd.controller import Controller
except ImportError:  # pragma: no cover - a setup problem, said plainly
    sys.exit("bench/crash.py needs aiosmtpd: pip install aiosmtpd==1.4.6")

MODES = ("random", "smtp-data", "checkpoint", "smtp-accepted")
TEAM = "team@example.org"
# How long the SMTP server holds the DATA a smtp-data kill lands in.
HOLD_DATA = 0.5
# Longest wait for the event a mode kills on; then it kills anyway.
MODE_TIMEOUT = 8.0
# Share of confirmation mails whose link is used (the rest stay unconfirmed).
CONFIRM_SHARE = 0.75
PAGES = {
    "signup": {"en": ["/newsletter", "/"], "de": ["/de/newsletter", "/de/"]},
    "contact": {"en": ["/contact"], "de": ["/de/kontakt"]},
    "sign": {"en": ["/pardon"], "de": ["/de/begnadigung"]},
    "data_request": {"en": ["/my-data"], "de": ["/de/meine-daten"]},
}
# The mail an acknowledged submission promises.
MAIL_OF = {
    "signup": "newsletter_confirm",
    "confirm_nl": "newsletter_welcome",
    "contact": "contact_message",
    "sign": "petition_confirm",
    "data_request": "data_access",
}
GROUP_OF = {"signup": "nl", "contact": "contact", "sign": "pet"}
ANSI = re.compile(r"\x1b\[[0-9;]*m")
TOKEN_RE = re.compile(r'<input type="hidden" name="token" value="([^"]*)"')
FORM_RE = re.compile(r'<form\b[^>]*\baction="([^"]*)"')


def short(mid: str) -> str:
    return mid.split("@")[0][:10]


# ---------------------------------------------------------------- SMTP side


class Sink:
    """The SMTP server's handler. A mail is accepted by storing it in the
    Maildir and answering 250; deliveries are counted per Message-ID and
    per cycle ("epoch"). It can kill the Casefile process at a chosen point
    of a delivery (see `arm`)."""

    def __init__(self, maildir: str, on_mail, seed: int):
        self.box = mailbox.Maildir(maildir, create=True)
        self.on_mail = on_mail
        self.lock = threading.Lock()
        self.rng = random.Random(seed)
        self.counts: collections.Counter[str] = collections.Counter()
        self.epochs: dict[str, list[int]] = collections.defaultdict(list)
        self.epoch = 0
        self.inflight = 0
        self.dropped = 0  # DATA abandoned: the client went away before the answer
        self.dropped_mids: list[str] = []
        self.errors: list[str] = []
        self.arm_mode: str | None = None
        self.arm_pid = 0
        self.fired: str | None = None  # what the sink's kill hit
        self.fired_mid: str | None = None

    def arm(self, mode: str, pid: int) -> None:
        with self.lock:
            self.arm_mode, self.arm_pid, self.fired, self.fired_mid = mode, pid, None, None

    def disarm(self) -> bool:
        """Takes the arm back; False if it had fired (or is firing) already."""
        with self.lock:
            was = self.arm_mode is not None
            self.arm_mode = None
            return was

    def _take(self, mode: str) -> int:
        with self.lock:
            if self.arm_mode != mode:
                return 0
            self.arm_mode = None
            return self.arm_pid

    def _fire(self, pid: int, what: str, mid: str) -> None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            what += " (the process had exited already)"
        with self.lock:
            self.fired, self.fired_mid = what, mid

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        loop = asyncio.get_running_loop()
        with self.lock:
            self.inflight += 1
        mid = "?"
        try:
            raw = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            mid = str(msg.get("Message-ID", "")).strip().strip("<>")
            pid = self._take("smtp-data")
            if pid:
                delay = self.rng.uniform(0.05, HOLD_DATA - 0.05)
                loop.call_later(
                    delay,
                    self._fire,
                    pid,
                    f"{delay * 1000:.0f} ms into a DATA held {HOLD_DATA * 1000:.0f} ms (before the 250)",
                    mid,
                )
                await asyncio.sleep(HOLD_DATA)
            elif self.rng.random() < 0.1:
                await asyncio.sleep(0.1)  # some slow deliveries in every cycle
            # Accepted from here on: nothing below awaits, so a vanished
            # client can no longer cancel it.
            self.box.add(raw)
            with self.lock:
                self.counts[mid] += 1
                n = self.counts[mid]
                self.epochs[mid].append(self.epoch)
            pid = self._take("smtp-accepted")
            if pid:
                # Runs after the 250 below is written to the socket (aiosmtpd
                # writes it without yielding to the loop first).
                loop.call_soon(self._fire, pid, "right after the SMTP server stored a mail and wrote its 250", mid)
            try:
                self.on_mail(msg, mid, n)
            except Exception as e:  # a harness bug must not refuse mail
                with self.lock:
                    self.errors.append(f"{type(e).__name__}: {e}")
            return "250 OK"
        except asyncio.CancelledError:
            with self.lock:
                self.dropped += 1
                self.dropped_mids.append(mid)
            raise
        finally:
            with self.lock:
                self.inflight -= 1

    def wait_idle(self, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if self.inflight == 0:
                    return True
            time.sleep(0.01)
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------- the ledger


@dataclasses.dataclass
class Submission:
    kind: str  # signup contact sign confirm_nl confirm_pet data_request erase
    email: str
    cycle: int
    outcome: str = "sent"  # sent (no answer yet) | acked | lost | refused | unsent


@dataclasses.dataclass
class Person:
    email: str
    group: str  # nl | pet | contact
    lang: str
    acked: bool = False  # the first submission was acknowledged
    expected: set = dataclasses.field(default_factory=set)  # mail kinds promised
    delivered: set = dataclasses.field(default_factory=set)  # mail kinds seen
    links_pending: int = 0
    busy: bool = False
    data_requested: bool = False
    erase: str | None = None  # acked | unknown
    subs: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Link:
    kind: str  # newsletter_confirm | petition_confirm | data_access
    email: str
    path: str
    token: str
    tries: int = 0


class Ledger:
    """What the harness sent, what was answered, and what mail arrived."""

    def __init__(self, seed: int):
        self.lock = threading.Lock()
        self.rng = random.Random(seed)
        self.persons: dict[str, Person] = {}
        self.subs: list[Submission] = []
        self.links: collections.deque[Link] = collections.deque()
        self.mail_mids: dict[tuple[str, str], set] = collections.defaultdict(set)
        self.stray: list[str] = []
        self.unexpected: collections.Counter[str] = collections.Counter()
        self.cycle = 0
        self.n = 0

    def new_person(self, group: str, lang: str) -> Person:
        with self.lock:
            self.n += 1
            p = Person(f"{group}{self.n}-{lang}@example.org", group, lang)
            self.persons[p.email] = p
            return p

    def record(self, kind: str, p: Person) -> Submission:
        with self.lock:
            s = Submission(kind, p.email, self.cycle)
            self.subs.append(s)
            p.subs.append(s)
            return s

    def note(self, what: str) -> None:
        with self.lock:
            self.unexpected[what] += 1

    def on_mail(self, msg, mid: str, n: int) -> None:
        """Called by the SMTP server for every delivery."""
        to = msg["To"].addresses[0].addr_spec if msg["To"] else ""
        reply_to = msg["Reply-To"].addresses[0].addr_spec if msg["Reply-To"] else ""
        body = msg.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        urls = [urllib.parse.urlsplit(u) for u in re.findall(r"https?://[^\s<>\"]+", text)]
        with self.lock:
            if reply_to and to == TEAM:
                kind, who, link = "contact_message", reply_to, None
            else:
                who, link = to, None
                p = self.persons.get(who)
                if msg["List-Unsubscribe"]:
                    kind = "newsletter_welcome"
                elif any(u.path.endswith("/view") for u in urls):
                    kind = "data_access"
                    link = next(u for u in urls if u.path.endswith("/view"))
                elif any(u.path.endswith("/confirm") for u in urls) and p is not None:
                    kind = "petition_confirm" if p.group == "pet" else "newsletter_confirm"
                    link = next(u for u in urls if u.path.endswith("/confirm"))
                else:
                    kind = "unknown"
            p = self.persons.get(who)
            if p is None or kind == "unknown":
                self.stray.append(f"{kind} to {who} ({short(mid)})")
                return
            self.mail_mids[(kind, who)].add(mid)
            if n > 1 or kind in p.delivered:
                return  # a repeat: no new action
            p.delivered.add(kind)
            token = urllib.parse.parse_qs(link.query).get("t", [""])[0] if link else ""
            if kind in ("newsletter_confirm", "petition_confirm") and self.rng.random() < CONFIRM_SHARE:
                self.links.append(Link(kind, who, link.path, token))
                p.links_pending += 1
            elif kind == "data_access" and p.data_requested and p.erase is None:
                self.links.append(Link(kind, who, link.path, token))
                p.links_pending += 1

    def eligible_for_data_request(self) -> list[Person]:
        return [
            p
            for p in self.persons.values()
            if p.acked
            and not p.busy
            and not p.data_requested
            and p.links_pending == 0
            and p.erase is None
            and p.expected <= p.delivered
        ]

    def snapshot(self):
        """The persons and mails, read while nothing changes them (the load
        threads are idle and no server runs), so not copied."""
        with self.lock:
            return list(self.persons.values()), dict(self.mail_mids)


# ------------------------------------------------------------------ HTTP


class Refused(Exception):
    """The connection was refused: nothing was sent."""


def request(base: str, method: str, path: str, fields: dict | None = None):
    """One request on a fresh connection. Returns (status, location, body)."""
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=15)
    headers = {"Connection": "close"}
    body = None
    if fields is not None:
        body = urllib.parse.urlencode(fields)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = base
    try:
        try:
            conn.connect()
        except ConnectionRefusedError as e:
            raise Refused() from e
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        status, location = resp.status, resp.getheader("Location", "")
        try:
            data = resp.read()
        except (OSError, http.client.HTTPException):
            data = b""  # the answer's status line counts; its body may be cut
        return status, location, data.decode("utf-8", "replace")
    finally:
        conn.close()


def parse_form(page: str):
    m = TOKEN_RE.search(page)
    if not m:
        return None
    forms = list(FORM_RE.finditer(page, 0, m.start()))
    if not forms:
        return None
    return html.unescape(m.group(1)), html.unescape(forms[-1].group(1)).split("#")[0]


class Load:
    """Threads that use the forms and the mailed links like many visitors."""

    def __init__(self, ledger: Ledger, threads: int, seed: int):
        self.ledger = ledger
        self.cv = threading.Condition()
        self.up = False
        self.base = ""
        self.busy = 0
        self.stopping = False
        self.threads = [
            threading.Thread(target=self.run, args=(random.Random(seed * 1000 + i),), daemon=True)
            for i in range(threads)
        ]

    def start(self):
        for t in self.threads:
            t.start()

    def set_up(self, base: str | None):
        with self.cv:
            self.up = base is not None
            if base:
                self.base = base
            self.cv.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self.cv:
            return self.cv.wait_for(lambda: self.busy == 0, timeout)

    def stop(self):
        with self.cv:
            self.stopping = True
            self.up = False
            self.cv.notify_all()
        for t in self.threads:
            t.join(timeout=20)

    def run(self, rng: random.Random):
        while True:
            with self.cv:
                while not self.stopping and not self.up:
                    self.cv.wait(0.2)
                if self.stopping:
                    return
                self.busy += 1
                base = self.base
            try:
                self.act(base, rng)
            except Refused:
                time.sleep(0.05)  # the server is down; wait for the restart
            except (OSError, http.client.HTTPException):
                time.sleep(0.05)
            except Exception as e:  # a harness bug: count it, keep going
                self.ledger.note(f"harness error {type(e).__name__}: {e}")
            finally:
                with self.cv:
                    self.busy -= 1
                    self.cv.notify_all()

    def act(self, base: str, rng: random.Random):
        led = self.ledger
        link = None
        with led.lock:
            if led.links and rng.random() < 0.6:
                link = led.links.popleft()
        if link is not None:
            return self.follow(base, link)
        r = rng.random()
        if r < 0.12 and self.data_request(base, rng):
            return None
        kind = "signup" if r < 0.45 else "sign" if r < 0.75 else "contact"
        return self.submit(base, rng, kind)

    def form(self, base: str, rng: random.Random, kind: str, lang: str):
        status, _, page = request(base, "GET", rng.choice(PAGES[kind][lang]))
        if status != 200:
            self.ledger.note(f"GET form page for {kind}: {status}")
            return None
        parsed = parse_form(page)
        if parsed is None:
            self.ledger.note(f"no form token on the {kind} page")
        return parsed

    def post(self, base: str, sub: Submission, path: str, fields: dict, ok_status: int) -> bool:
        """Sends a submission; records its outcome. True if acknowledged."""
        try:
            status, location, _ = request(base, "POST", path, fields)
        except Refused:
            sub.outcome = "unsent"
            raise
        except (OSError, http.client.HTTPException):
            sub.outcome = "lost"
            return False
        if status == ok_status and (ok_status != 303 or location.endswith("/thanks")):
            sub.outcome = "acked"
            return True
        sub.outcome = "refused"
        self.ledger.note(f"POST {sub.kind} answered {status}")
        return False

    def submit(self, base: str, rng: random.Random, kind: str):
        lang = rng.choice(("en", "de"))
        parsed = self.form(base, rng, kind, lang)
        if parsed is None:
            return
        token, action = parsed
        led = self.ledger
        p = led.new_person(GROUP_OF[kind], lang)
        fields = {"token": token, "website": "", "email": p.email}
        if kind == "signup":
            fields.update(name=rng.choice(("", "Ann Example")), consent="yes")
        elif kind == "contact":
            fields.update(name="Carl Example", subject=f"Crash test {p.email}", message="A message.\nTwo lines.")
        else:
            fields.update(name="Dora Example", country=rng.choice(("Germany", "USA", "Österreich")), consent="yes")
            if rng.random() < 0.5:
                fields["show_name"] = "yes"
        sub = led.record(kind, p)
        if self.post(base, sub, action, fields, 303):
            with led.lock:
                p.acked = True
                p.expected.add(MAIL_OF[kind])

    def data_request(self, base: str, rng: random.Random) -> bool:
        led = self.ledger
        with led.lock:
            candidates = led.eligible_for_data_request()
            if not candidates:
                return False
            p = rng.choice(candidates)
            p.busy = p.data_requested = True
        def give_back():
            with led.lock:
                p.busy = p.data_requested = False  # nothing sent: another time

        try:
            parsed = self.form(base, rng, "data_request", p.lang)
        except (Refused, OSError, http.client.HTTPException):
            give_back()
            raise
        if parsed is None:
            give_back()
            return True
        token, action = parsed
        sub = led.record("data_request", p)
        try:
            acked = self.post(base, sub, action, {"token": token, "website": "", "email": p.email}, 303)
        except Refused:
            give_back()
            raise
        with led.lock:
            if acked:
                p.expected.add("data_access")
            elif sub.outcome == "refused":
                p.busy = False
        return True

    def follow(self, base: str, link: Link):
        """Opens a mailed link (the page with the button), then presses it."""
        led = self.ledger
        try:
            status, _, _ = request(base, "GET", f"{link.path}?t={urllib.parse.quote(link.token)}")
        except (Refused, OSError, http.client.HTTPException):
            with led.lock:
                led.links.append(link)  # not used yet: again after the restart
            raise
        p = led.persons[link.email]
        if link.kind == "data_access":
            kind, path = "erase", link.path[: -len("view")] + "erase"
        else:
            kind = "confirm_pet" if link.kind == "petition_confirm" else "confirm_nl"
            path = link.path
        if status == 404 and kind == "erase" and link.tries:
            # Used again after a use the kill cut off: that use had erased
            # the data (and the link with it). Checked as an unanswered erasure.
            led.note("erasure link used again after a cut-off use: 404, erased already")
            with led.lock:
                p.links_pending -= 1
                p.erase, p.busy = "unknown", False
            return
        if status != 200:
            led.note(f"GET {link.kind} link: {status}")
        sub = led.record(kind, p)
        try:
            acked = self.post(base, sub, path, {"t": link.token}, 200)
        except Refused:
            with led.lock:
                led.links.append(link)
            raise
        with led.lock:
            if sub.outcome == "lost" and link.tries < 3:
                link.tries += 1
                led.links.append(link)  # the person clicks again after the restart
                return
            p.links_pending -= 1
            if acked and kind == "confirm_nl":
                p.expected.add("newsletter_welcome")
            if kind == "erase":
                p.erase = "acked" if acked else "unknown"
                p.busy = False


# ---------------------------------------------------------------- server


class Server:
    """One `casefile serve` process at a time, its stderr kept in a log."""

    def __init__(self, binary: str, data: str, smtp_url: str, log_path: str):
        self.binary, self.data, self.smtp_url = binary, data, smtp_url
        self.log = open(log_path, "a", encoding="utf-8")
        self.proc: subprocess.Popen | None = None
        self.base = ""
        self.ready_ms = 0.0
        self.errors: list[str] = []
        self.requeued = 0

    def start(self, cycle: str, timeout: float = 60.0):
        env = {k: v for k, v in os.environ.items() if not k.startswith("CASEFILE_") and k != "DATABASE_URL"}
        env["RUST_LOG"] = "info"
        cmd = [
            self.binary, "serve", "--listen", "127.0.0.1:0", "--data", self.data,
            "--smtp-url", self.smtp_url, "--mail-from", "Crash Harness <crash@example.org>",
            "--contact-to", TEAM, "--form-min-seconds", "0", "--form-rate-limit", "1000000",
            "--mail-retry-seconds", "1",
        ]  # fmt: skip
        self.log.write(f"===== start for cycle {cycle}\n")
        self.log.flush()
        ready = threading.Event()
        self.requeued = 0
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
        )

        def read(proc=self.proc):
            for raw in proc.stderr:
                line = ANSI.sub("", raw.decode("utf-8", "replace")).rstrip("\n")
                self.log.write(line + "\n")
                if " ERROR " in line or line.startswith("ERROR"):
                    self.errors.append(line)
                m = re.search(r"go out again.*mails=(\d+)", line)
                if m:
                    self.requeued += int(m.group(1))
                if not ready.is_set() and "listening on http://" in line:
                    self.base = line.split("listening on ")[1].split()[0]
                    # The server's own figure (process start to listening).
                    m = re.search(r"ready_ms=(\d+)", line)
                    self.ready_ms = float(m.group(1)) if m else (time.monotonic() - t0) * 1000
                    ready.set()
            self.log.flush()

        threading.Thread(target=read, daemon=True).start()
        end = time.monotonic() + timeout
        while not ready.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > end:
                self.kill()
                self.log.flush()
                raise RuntimeError(f"the server did not start (exit {self.proc.returncode}); see {self.log.name}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()

    def wait_exit(self, timeout: float) -> bool:
        try:
            self.proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False


class WalWatch:
    """Follows the server's WAL index (`casefile.db-shm`) every few tenths of
    a millisecond to see checkpoints begin and end. The layout is SQLite's
    (wal.c): after two 48-byte headers comes WalCkptInfo, with nBackfill at
    byte 96 and nBackfillAttempted at 128, in native byte order. A
    checkpoint raises nBackfillAttempted before it copies the log back into
    casefile.db, and raises nBackfill to match once casefile.db is synced.
    Recovery at start-up sets nBackfillAttempted to the log's length and
    nBackfill to 0 without any checkpoint running, so a checkpoint counts as
    begun only when nBackfillAttempted rises while the server runs."""

    def __init__(self, data: str):
        self.path = os.path.join(data, "casefile.db-shm")
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.kill_pid = 0
        self.killed = False
        self.began = self.finished = 0
        self.in_progress = False
        self.prev = None
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def read(self):
        try:
            with open(self.path, "rb") as f:
                b = f.read(136)
        except OSError:
            return None
        return (struct.unpack_from("=I", b, 96)[0], struct.unpack_from("=I", b, 128)[0]) if len(b) == 136 else None

    def step(self, cur) -> bool:
        """Takes a reading; True if a checkpoint began since the last one."""
        with self.lock:
            if self.prev is None:
                self.prev = cur
                return False
            (b0, a0), (b, a) = self.prev, cur
            began = False
            if a < a0 or b < b0:
                # The log was started again from its beginning, which SQLite
                # does only once a checkpoint copied all of it back.
                if self.in_progress:
                    self.finished += 1
                self.in_progress = False
            if a > a0 and a > b:
                self.began += 1
                self.in_progress = began = True
            if b > b0 and b >= a:
                self.finished += 1
                self.in_progress = False
            self.prev = cur
            return began

    def run(self):
        fd = None
        while not self.stopped.is_set():
            if fd is None:
                try:
                    fd = os.open(self.path, os.O_RDONLY)
                except FileNotFoundError:
                    time.sleep(0.005)
                    continue
            b = os.pread(fd, 136, 0)
            if len(b) == 136 and self.step((struct.unpack_from("=I", b, 96)[0], struct.unpack_from("=I", b, 128)[0])):
                with self.lock:
                    pid, self.kill_pid = self.kill_pid, 0
                if pid:
                    os.kill(pid, signal.SIGKILL)
                    self.killed = True
            time.sleep(0.0003)
        if fd is not None:
            os.close(fd)

    def arm(self, pid: int):
        with self.lock:
            self.kill_pid = pid

    def disarm(self) -> bool:
        with self.lock:
            was, self.kill_pid = self.kill_pid != 0, 0
            return was

    def finish(self) -> bool:
        """After the kill: whether a checkpoint was left unfinished."""
        self.stopped.set()
        self.thread.join(5)
        cur = self.read()
        if cur is not None:
            self.step(cur)
        return self.in_progress


# ---------------------------------------------------------------- checks


@dataclasses.dataclass
class DbCheck:
    integrity: str = ""
    fk_violations: int = 0
    acked: int = 0
    found: int = 0
    superseded: int = 0  # acknowledged, then erased on request (checked gone)
    missing: list = dataclasses.field(default_factory=list)
    duplicates: list = dataclasses.field(default_factory=list)
    torn: list = dataclasses.field(default_factory=list)
    unacked: int = 0
    unacked_committed: int = 0
    outbox: list = dataclasses.field(default_factory=list)  # (message_id, state, kind, recipient, reply_to)


def load_facts(con):
    f = collections.defaultdict(lambda: collections.defaultdict(int))
    for email_, status in con.execute("SELECT email, status FROM subscribers"):
        f[email_]["sub"] += 1
        f[email_]["sub_" + status] += 1
    for email_, status in con.execute("SELECT email, status FROM signatures"):
        f[email_]["sig"] += 1
        f[email_]["sig_" + status] += 1
    for (email_,) in con.execute("SELECT email FROM messages"):
        f[email_]["msg"] += 1
    for email_, subject, confirmed in con.execute("SELECT email, subject, confirmed_at IS NOT NULL FROM consents"):
        key = "cons_nl" if subject == "newsletter" else "cons_pet"
        f[email_][key] += 1
        f[email_][key + "_confirmed"] += confirmed
    for (email_,) in con.execute("SELECT email FROM data_requests"):
        f[email_]["dreq"] += 1
    for (email_,) in con.execute("SELECT email FROM mail_throttle"):
        f[email_]["throttle"] += 1
    outbox = con.execute("SELECT message_id, state, kind, recipient, reply_to FROM outbox").fetchall()
    for _, _, kind, recipient, reply_to in outbox:
        who = reply_to if kind == "contact_message" and reply_to else recipient
        f[who]["ob_" + kind] += 1
        f[who]["ob"] += 1
        if reply_to and reply_to != who:
            f[reply_to]["ob"] += 1
    return f, outbox


# Per submission kind: the parts one transaction writes, and the counts
# that must never exceed one.
def parts(kind: str, x) -> tuple[list[bool], list[str]]:
    if kind == "signup":
        return [x["sub"] > 0, x["cons_nl"] > 0, x["ob_newsletter_confirm"] > 0], ["cons_nl", "ob_newsletter_confirm"]
    if kind == "confirm_nl":
        return [x["sub_confirmed"] > 0, x["cons_nl_confirmed"] > 0, x["ob_newsletter_welcome"] > 0], [
            "ob_newsletter_welcome"
        ]
    if kind == "contact":
        return [x["msg"] > 0, x["ob_contact_message"] > 0], ["msg", "ob_contact_message"]
    if kind == "sign":
        return [x["sig"] > 0, x["cons_pet"] > 0, x["ob_petition_confirm"] > 0], ["cons_pet", "ob_petition_confirm"]
    if kind == "confirm_pet":
        return [x["sig_confirmed"] > 0, x["cons_pet_confirmed"] > 0], []
    if kind == "data_request":
        return [x["dreq"] > 0, x["ob_data_access"] > 0], ["dreq", "ob_data_access"]
    raise ValueError(kind)


ERASED_FROM = ("sub", "sig", "msg", "cons_nl", "cons_pet", "dreq", "throttle", "ob")


def check_db(db: str, persons: list[Person]) -> DbCheck:
    r = DbCheck()
    con = sqlite3.connect(db)
    try:
        r.integrity = "; ".join(row[0] for row in con.execute("PRAGMA integrity_check"))
        r.fk_violations = len(con.execute("PRAGMA foreign_key_check").fetchall())
        facts, r.outbox = load_facts(con)
    finally:
        con.close()
    for p in persons:
        x = facts.get(p.email, collections.defaultdict(int))
        gone = all(x[k] == 0 for k in ERASED_FROM)
        acked = [s for s in p.subs if s.outcome == "acked" and s.kind != "erase"]
        erase = [s for s in p.subs if s.kind == "erase"]
        r.acked += len(acked) + sum(s.outcome == "acked" for s in erase)
        if p.erase == "acked" or (erase and gone):
            # An erasure wins over what came before it.
            left = [k for k in ERASED_FROM if x[k]]
            if p.erase == "acked":
                if left:
                    r.missing.append(f"erasure of {p.email} acknowledged, still held: {left}")
                else:
                    r.found += 1
            else:  # the erasure's answer was cut off, but it was done
                r.unacked += 1
                r.unacked_committed += 1
            r.superseded += len(acked)
            continue
        dups = set()
        for s in p.subs:
            if s.kind == "erase":
                if s.outcome != "acked" and x["sub"] + x["sig"] + x["msg"] == 0 and not gone:
                    r.torn.append(f"erase of {p.email} half done: {dict(x)}")
                continue
            have, once = parts(s.kind, x)
            dups.update(k for k in once if x[k] > 1)
            if s.outcome == "acked":
                if all(have):
                    r.found += 1
                else:
                    r.missing.append(f"{s.kind} {p.email} (cycle {s.cycle}) acknowledged, found {have}")
            elif s.outcome in ("lost", "sent", "refused"):
                r.unacked += 1
                if any(have) and not all(have):
                    r.torn.append(f"{s.kind} {p.email} ({s.outcome}) partly stored: {have}")
                elif all(have):
                    r.unacked_committed += 1
        r.duplicates.extend(f"{p.email}: {k} = {x[k]}" for k in sorted(dups))
    return r


def copy_db(data: str, dest: str) -> str:
    """Copies the database and its log as the kill left them; SQLite
    recovers the copy from the log the way the restart will recover the
    original, which the harness leaves untouched."""
    os.makedirs(dest, exist_ok=True)
    for name in ("casefile.db-wal", "casefile.db-shm", "casefile.db"):
        try:
            os.remove(os.path.join(dest, name))
        except FileNotFoundError:
            pass
    for name in ("casefile.db", "casefile.db-wal"):
        src = os.path.join(data, name)
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(dest, name))
    return os.path.join(dest, "casefile.db")


def read_maildir(path: str) -> collections.Counter:
    counts: collections.Counter[str] = collections.Counter()
    for sub in ("new", "cur"):
        d = os.path.join(path, sub)
        for name in os.listdir(d) if os.path.isdir(d) else []:
            with open(os.path.join(d, name), "rb") as f:
                msg = email.message_from_binary_file(f, policy=email.policy.compat32)
            counts[str(msg.get("Message-ID", "")).strip().strip("<>")] += 1
    return counts


# ------------------------------------------------------------------ main


def kill_cycle(mode: str, server: Server, sink: Sink, watch: WalWatch, rng: random.Random) -> str:
    """Kills the server the way `mode` says; returns what the kill hit."""
    pid = server.proc.pid
    if mode == "random":
        delay = rng.uniform(0.3, 2.5)
        time.sleep(delay)
        server.kill()
        return f"at {delay:.2f} s"
    if mode in ("smtp-data", "smtp-accepted"):
        time.sleep(rng.uniform(0.2, 1.0))
        sink.arm(mode, pid)
        if server.wait_exit(MODE_TIMEOUT):
            return sink.fired or "the server exited by itself"
        if sink.disarm():
            server.kill()
            return f"no mail within {MODE_TIMEOUT:.0f} s; killed at the timeout"
        server.wait_exit(5)
        server.kill()
        return sink.fired or "killed"
    if mode == "checkpoint":
        time.sleep(rng.uniform(0.1, 0.5))
        watch.arm(pid)
        if server.wait_exit(MODE_TIMEOUT):
            return "as a checkpoint began (WAL index)" if watch.killed else "the server exited by itself"
        if watch.disarm():
            server.kill()
            return f"no checkpoint began within {MODE_TIMEOUT:.0f} s; killed at the timeout"
        server.wait_exit(5)
        server.kill()
        return "as a checkpoint began (WAL index)"
    raise ValueError(mode)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", required=True, help="the casefile binary")
    ap.add_argument("--cycles", type=int, required=True, help="kill-and-restart cycles")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=8, help="concurrent visitors (default 8)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (data, Maildir, server log)")
    ap.add_argument("--modes", default=",".join(MODES), help=f"kill modes used in turn (default {','.join(MODES)})")
    args = ap.parse_args()
    modes = args.modes.split(",")
    if not modes or any(m not in MODES for m in modes):
        print(f"--modes takes some of {','.join(MODES)}", file=sys.stderr)
        return 2
    # Threads take turns every 5 ms by default: the WAL watcher and the
    # SMTP server's kills would wait that long behind the load threads.
    sys.setswitchinterval(0.0005)
    binary = os.path.abspath(args.binary)
    if not os.access(binary, os.X_OK):
        print(f"not an executable: {binary}", file=sys.stderr)
        return 2

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    tmp = tempfile.mkdtemp(prefix="casefile-crash-")
    data, maildir, checkdir = (os.path.join(tmp, n) for n in ("data", "maildir", "check"))
    rng = random.Random(args.seed)
    ledger = Ledger(args.seed + 1)
    sink = Sink(maildir, ledger.on_mail, args.seed + 2)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    server = Server(binary, data, f"smtp://127.0.0.1:{port}", os.path.join(tmp, "server.log"))
    load = Load(ledger, args.threads, args.seed + 3)
    window: collections.Counter[str] = collections.Counter()  # mid -> kills inside its window
    odd_pending: list[str] = []
    stats = collections.Counter()
    ready_ms: list[float] = []
    integrity_bad: list[str] = []
    fails: list[str] = []
    cycle_problems: list[str] = []
    accepted_hits: list[str] = []  # the mails smtp-accepted kills landed after
    started = time.monotonic()
    print(
        f"crash harness: {binary}, {args.cycles} cycles, seed {args.seed}, {args.threads} threads, "
        f"SMTP aiosmtpd on 127.0.0.1:{port}, folder {tmp}",
        flush=True,
    )
    try:
        controller.start()
        load.start()
        for cycle in range(1, args.cycles + 1):
            mode = modes[(cycle - 1) % len(modes)]
            ledger.cycle = sink.epoch = cycle
            server.start(str(cycle))
            ready_ms.append(server.ready_ms)
            watch = WalWatch(data)
            load.set_up(server.base)
            t_up = time.monotonic()
            what = kill_cycle(mode, server, sink, watch, rng)
            load.set_up(None)
            server.kill()
            up_for = time.monotonic() - t_up
            stats[f"mode {mode}"] += 1
            if not load.wait_idle(30):
                fails.append(f"cycle {cycle}: load threads did not settle")
            if not sink.wait_idle(10):
                fails.append(f"cycle {cycle}: the SMTP server still had a DATA in hand")
            ckpt = watch.finish()
            stats["checkpoint interrupted"] += ckpt
            stats["checkpoints begun"] += watch.began
            stats["checkpoints finished"] += watch.finished
            if mode in ("smtp-data", "smtp-accepted") and sink.fired:
                stats[f"killed by {mode}"] += 1
                if mode == "smtp-accepted":
                    accepted_hits.append(sink.fired_mid)
            if mode == "checkpoint" and watch.killed:
                stats["killed as a checkpoint began"] += 1
            persons, _ = ledger.snapshot()
            r = check_db(copy_db(data, checkdir), persons)
            if r.integrity != "ok":
                integrity_bad.append(f"cycle {cycle}: {r.integrity}")
            # Which mails were inside the at-least-once window at this kill:
            # stored by the SMTP server during this run, still `sending`.
            in_window = []
            for mid, state, *_ in r.outbox:
                if cycle in sink.epochs.get(mid, ()):
                    if state == "sending":
                        window[mid] += 1
                        in_window.append(short(mid))
                    elif state == "pending":
                        odd_pending.append(f"cycle {cycle}: {mid} delivered but recorded pending")
            with sink.lock:
                delivered = sum(sink.counts.values())
                distinct = len(sink.counts)
            with ledger.lock:
                acked_now = sum(s.outcome == "acked" for s in ledger.subs if s.cycle == cycle)
                lost_now = sum(s.outcome == "lost" for s in ledger.subs if s.cycle == cycle)
            bad = len(r.missing) + len(r.duplicates) + len(r.torn)
            cycle_problems.extend(f"cycle {cycle}: {x}" for x in r.missing + r.duplicates + r.torn)
            print(
                f"cycle {cycle:3d} {mode:13s} up {up_for:4.2f} s, killed {what}; "
                f"checkpoints begun/finished {watch.began}/{watch.finished}, one left unfinished: "
                f"{'yes' if ckpt else 'no'} | started in {server.ready_ms:.0f} ms, {server.requeued} interrupted "
                f"mails requeued | acked {acked_now}, cut off {lost_now} | db: "
                f"{r.found}/{r.acked} acked present ({r.superseded} erased on request), missing {len(r.missing)}, "
                f"duplicates {len(r.duplicates)}, partial {len(r.torn)}, integrity {r.integrity} | "
                f"mail so far: {delivered} delivered ({distinct} distinct), in window at this kill {len(in_window)}"
                + (f" {in_window}" if in_window else "")
                + (" | FAIL" if bad or r.integrity != "ok" else ""),
                flush=True,
            )
            for line in (r.missing + r.duplicates + r.torn)[:10]:
                print(f"    {line}", flush=True)

        # The final run: no new load; the server sends what is queued.
        load.stop()
        ledger.cycle = sink.epoch = args.cycles + 1
        server.start("final (drain)")
        ready_ms.append(server.ready_ms)
        db = os.path.join(data, "casefile.db")
        drained = False
        end = time.monotonic() + 90
        while time.monotonic() < end:
            try:
                con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
                waiting = con.execute(
                    "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')"
                ).fetchone()[0]
                con.close()
            except sqlite3.Error:
                waiting = -1
            with sink.lock:
                busy = sink.inflight
            if waiting == 0 and busy == 0:
                drained = True
                break
            time.sleep(0.2)
        time.sleep(1.0)  # stragglers
        server.proc.send_signal(signal.SIGTERM)
        stopped = server.wait_exit(30)
        if not stopped:
            server.kill()
            fails.append("the server did not stop within 30 s of SIGTERM")
        elif server.proc.returncode != 0:
            fails.append(f"the server exited {server.proc.returncode} after SIGTERM")
        if not drained:
            fails.append("the outbox did not drain within 90 s")
        persons, mail_mids = ledger.snapshot()
        dropped = list(sink.dropped_mids)
        final = check_db(db, persons)
        if final.integrity != "ok":
            integrity_bad.append(f"final: {final.integrity}")

        # Mail tally from the Maildir itself.
        counts = read_maildir(maildir)
        if counts != sink.counts:
            fails.append("the Maildir and the SMTP server's own count differ")
        expected = {
            (MAIL_OF[s.kind], p.email) for p in persons for s in p.subs if s.outcome == "acked" and s.kind in MAIL_OF
        }
        lost_mail, twice_queued, repeated = [], [], []
        once = 0
        for k, e in sorted(expected):
            mids = mail_mids.get((k, e), set())
            if not mids:
                lost_mail.append(f"{k} to {e}")
            elif len(mids) > 1:
                twice_queued.append(f"{k} to {e}: {len(mids)} different mails")
            elif counts[next(iter(mids))] == 1:
                once += 1
            else:
                repeated.append(f"{k} to {e}")
        resent_once = sum(1 for mid in dropped if counts[mid] == 1)
        dup_window = dup_outside = 0
        outside: list[str] = []
        for mid, n in counts.items():
            allowed = 1 + window[mid]
            dup_window += min(n - 1, window[mid])
            if n > allowed:
                dup_outside += n - allowed
                outside.append(f"{mid}: delivered {n} times, {window[mid]} kill(s) inside its window")
        # A mail inside the window at a kill but delivered only once since:
        # its outbox row may have been deleted (an erasure) before the
        # restarted server sent it again; any other case is shown as such.
        kind_of = {mid: k for (k, _), mids in mail_mids.items() for mid in mids}
        in_outbox = {row[0] for row in final.outbox}
        not_resent = [mid for mid in window if counts[mid] - 1 < window[mid]]
        not_resent_gone = [f"{kind_of.get(mid, '?')} {short(mid)}" for mid in not_resent if mid not in in_outbox]
        not_resent_other = [f"{kind_of.get(mid, '?')} {mid}" for mid in not_resent if mid in in_outbox]
        not_sent = [f"{mid} {state} {kind}" for mid, state, kind, *_ in final.outbox if state != "sent"]
        sent_never_delivered = [f"{mid} {kind}" for mid, state, kind, *_ in final.outbox if state == "sent" and counts[mid] == 0]
        with ledger.lock:
            by_kind = collections.Counter(s.kind for s in ledger.subs if s.outcome == "acked")
            outcomes = collections.Counter(s.outcome for s in ledger.subs)
            unexpected = dict(ledger.unexpected)
            stray = list(ledger.stray)

        print()
        elapsed = time.monotonic() - started
        print(f"summary: {args.cycles} cycles in {elapsed:.0f} s, seed {args.seed}, {args.threads} threads")
        print(
            "  kills: "
            + ", ".join(f"{MODES[i]} {stats[f'mode {MODES[i]}']}" for i in range(len(MODES)))
            + f"; inside an SMTP DATA {stats['killed by smtp-data']}, right after an SMTP 250 "
            f"{stats['killed by smtp-accepted']}, as a checkpoint began {stats['killed as a checkpoint began']}; "
            f"a checkpoint left unfinished by {stats['checkpoint interrupted']} of {args.cycles} kills "
            f"(checkpoints seen while running: {stats['checkpoints begun']} begun, {stats['checkpoints finished']} "
            f"finished)"
        )
        in_window_hits = sum(1 for mid in accepted_hits if window[mid])
        print(
            f"  smtp-accepted kills: {len(accepted_hits)}; the mail hit was still `sending` in the database (inside "
            f"the window) after {in_window_hits} of them, already recorded sent after {len(accepted_hits) - in_window_hits}"
        )
        print(
            f"  restarts: ready median {statistics.median(ready_ms):.0f} ms, max {max(ready_ms):.0f} ms "
            f"(first start, which imports the site: {ready_ms[0]:.0f} ms)"
        )
        print(
            f"  submissions: {len(ledger.subs)} sent, {outcomes['acked']} acknowledged "
            f"({', '.join(f'{k} {v}' for k, v in sorted(by_kind.items()))}), {outcomes['lost']} cut off by a kill, "
            f"{outcomes['refused']} refused, {outcomes['unsent']} not sent (server down)"
        )
        print(
            f"  database (final): {final.found} of {final.acked} acknowledged present, {final.superseded} more "
            f"erased later on request (checked gone), missing {len(final.missing)}, duplicate rows "
            f"{len(final.duplicates)}, partial submissions {len(final.torn)}; of {final.unacked} cut off or refused "
            f"(those of addresses erased later not counted), {final.unacked_committed} were stored in full and the "
            f"rest not at all"
        )
        print(
            f"  integrity_check: ok in {args.cycles + 1 - len(integrity_bad)} of {args.cycles + 1} checks "
            f"(after every kill, and at the end); foreign_key_check violations at the end: {final.fk_violations}"
        )
        print(
            f"  mail: {len(expected)} expected from acknowledged submissions: {once} delivered exactly once, "
            f"{len(repeated)} more than once, {len(lost_mail)} never, {len(twice_queued)} queued twice"
        )
        print(
            f"  mail: {sum(counts.values())} deliveries of {len(counts)} distinct Message-IDs in the Maildir "
            f"(mails of submissions cut off by a kill included); a second delivery inside the window (accepted by "
            f"SMTP, killed before recorded sent) {dup_window} (kills inside that window: {sum(window.values())}), "
            f"outside it {dup_outside}"
        )
        print(
            f"  mail: inside the window at a kill but not delivered again: {len(not_resent)} (outbox row deleted "
            f"before the restart sent it again, by an erasure on request: {len(not_resent_gone)}"
            + (f" {not_resent_gone}" if not_resent_gone else "")
            + f"; row still there: {len(not_resent_other)}"
            + (f" {not_resent_other}" if not_resent_other else "")
            + ")"
        )
        print(
            f"  mail: DATA abandoned by the SMTP server because the client died {len(dropped)}, of which delivered "
            f"exactly once after the restart {resent_once}; outbox rows not sent at the end {len(not_sent)}; "
            f"recorded sent but never delivered {len(sent_never_delivered)}"
        )
        if odd_pending:
            print(f"  delivered while the outbox said pending: {odd_pending[:5]}")
        if stray:
            print(f"  mails the harness could not place: {len(stray)} {stray[:5]}")
        if unexpected:
            print(f"  other answers: {unexpected}")
        if server.errors:
            print(f"  ERROR lines in the server log: {len(server.errors)}, first: {server.errors[0][:300]}")
        if sink.errors:
            print(f"  harness errors in the SMTP handler: {sink.errors[:3]}")
        for title, items in (
            ("missing", final.missing),
            ("duplicate rows", final.duplicates),
            ("partial", final.torn),
            ("mail never delivered", lost_mail),
            ("mail queued twice", twice_queued),
            ("duplicate mail outside the window", outside),
            ("not sent at the end", not_sent),
            ("recorded sent, never delivered", sent_never_delivered),
            ("integrity", integrity_bad),
            ("problems found after a kill", cycle_problems),
        ):
            if items:
                print(f"  {title}: {items[:10]}")
        failed = bool(
            cycle_problems
            or final.missing
            or final.duplicates
            or final.torn
            or integrity_bad
            or lost_mail
            or twice_queued
            or dup_outside
            or sent_never_delivered
            or not_sent
            or fails
        )
        for line in fails:
            print(f"  FAIL: {line}")
        print(f"result: {'FAIL' if failed else 'PASS'}", flush=True)
        return 1 if failed else 0
    except KeyboardInterrupt as e:
        print(f"interrupted ({e})", file=sys.stderr)
        return 130
    finally:
        server.kill()
        load.stop()
        try:
            controller.stop()
        except Exception:
            pass
        server.log.close()
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
