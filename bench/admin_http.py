#!/usr/bin/env python3
"""The admin over HTTP: list pages and an edit until the public page shows it.

Usage: bench/admin_http.py HOST:PORT EMAIL PASSWORD [ROUNDS] [EDITS]

Signs in, then
- loads the news list (plain, searched, filtered, sorted by title) ROUNDS
  times each and prints the median and p99;
- EDITS times (default ROUNDS): opens a news post's editor, changes its English title,
  saves, and loads the public page until it shows the new title; prints
  the median and p99 of save-to-served (the form post, the redirect not
  followed, and the public GET).
"""
import http.client
import statistics
import sys
import time
import urllib.parse
from html.parser import HTMLParser


class Fields(HTMLParser):
    """The named fields of the editor form, with their values."""

    def __init__(self):
        super().__init__()
        self.values, self._textarea, self._select = {}, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and "name" in a:
            self.values[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.values[self._textarea] = ""
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data


def main():
    host, port = sys.argv[1].split(":")
    email, password = sys.argv[2], sys.argv[3]
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    edit_rounds = int(sys.argv[5]) if len(sys.argv) > 5 else rounds
    conn = http.client.HTTPConnection(host, int(port), timeout=30)

    def request(method, path, body=None, cookie=None):
        headers = {"Host": f"{host}:{port}"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            # As a browser says where a post comes from (Casefile refuses
            # posts that do not).
            headers["Origin"] = f"http://{host}:{port}"
        if cookie:
            headers["Cookie"] = cookie
        conn.request(method, path, body=body, headers=headers)
        res = conn.getresponse()
        return res, res.read().decode()

    res, _ = request("POST", "/admin/sign-in", urllib.parse.urlencode({"email": email, "password": password}))
    if res.status != 303:
        sys.exit(f"sign-in: status {res.status}")
    cookie = res.getheader("Set-Cookie").split(";")[0]

    def timed(path):
        t = time.perf_counter()
        res, body = request("GET", path, cookie=cookie)
        if res.status != 200:
            sys.exit(f"{path}: status {res.status}")
        return (time.perf_counter() - t) * 1000, body

    def report(name, times):
        times.sort()
        p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
        print(f"{name:34} n={len(times)}  median {statistics.median(times):7.2f} ms  p99 {p99:7.2f} ms")

    for path in ["/admin/news", "/admin/news?q=parole", "/admin/news?status=draft", "/admin/news?sort=title"]:
        timed(path)  # warm up
        report(f"GET {path}", [timed(path)[0] for _ in range(rounds)])

    key = "2019-11-25-released-on-parole"
    edits = []
    for i in range(edit_rounds):
        _, page = timed(f"/admin/news/{key}")
        form = Fields()
        form.feed(page)
        fields = form.values
        title = f"Released on parole (benchmark edit {i} {time.time()})"
        fields["en.title"] = title
        t = time.perf_counter()
        res, _ = request("POST", f"/admin/news/{key}", urllib.parse.urlencode(fields), cookie)
        if res.status != 303:
            sys.exit(f"save: status {res.status}")
        while True:
            res, body = request("GET", f"/news/{fields['en.slug']}")
            if title in body:
                break
        edits.append((time.perf_counter() - t) * 1000)
    report("edit saved until served", edits)


if __name__ == "__main__":
    main()
