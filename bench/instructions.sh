#!/usr/bin/env bash
# Instructions per cached request, counted by callgrind: repeatable on a
# shared, noisy machine where wall-clock figures drift (see BENCHMARKS.md).
#
#   bench/instructions.sh [requests] [path]
#
# Runs the release binary under `valgrind --tool=callgrind` twice over the
# same fresh data folder: once serving only a warm-up, once serving the
# warm-up plus N keep-alive requests (gzip accepted) from a small Python
# client. The difference of the two totals, divided by N, is the cost of
# one request; the top functions of that difference are printed too.
# Needs valgrind (Debian package) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-3000}"
PAGE="${2:-/}"
PORT="${PORT:-18556}"
command -v valgrind >/dev/null || { echo "bench: valgrind is missing (apt-get install valgrind)" >&2; exit 2; }
cargo build --release --quiet
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

cat >"$OUT/client.py" <<'PY'
import http.client, sys
port, n, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
for _ in range(n):
    c.request("GET", path, headers={"Accept-Encoding": "gzip"})
    r = c.getresponse()
    r.read()
    assert r.status == 200, r.status
PY

# First start creates the database, so both measured runs start alike.
target/release/casefile serve --listen "127.0.0.1:$PORT" --data "$OUT/data" 2>"$OUT/first.log" &
PID=$!
for _ in $(seq 1 100); do grep -q "listening on" "$OUT/first.log" 2>/dev/null && break; sleep 0.1; done
kill -INT "$PID"; wait "$PID" || true

measure() { # $1 = requests after the warm-up, $2 = output file
  valgrind --tool=callgrind --callgrind-out-file="$2" target/release/casefile serve \
    --listen "127.0.0.1:$PORT" --data "$OUT/data" 2>"$OUT/vg.log" &
  local vp=$!
  for _ in $(seq 1 600); do grep -q "listening on" "$OUT/vg.log" 2>/dev/null && break; sleep 0.2; done
  python3 "$OUT/client.py" "$PORT" 20 "$PAGE"
  [ "$1" -gt 0 ] && python3 "$OUT/client.py" "$PORT" "$1" "$PAGE"
  kill -INT "$vp"; wait "$vp" || true
}
measure 0 "$OUT/base.out"
measure "$N" "$OUT/load.out"

python3 - "$OUT/base.out" "$OUT/load.out" "$N" "$PAGE" <<'PY'
import re, subprocess, sys
def profile(path):
    text = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", path],
                          capture_output=True, text=True).stdout
    out = {}
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\([\s\d.]+%\)\s+(.*)", line)
        if m and "PROGRAM TOTALS" not in line:
            out[m.group(2)[:110]] = int(m.group(1).replace(",", ""))
    return out
base, load, n = profile(sys.argv[1]), profile(sys.argv[2]), int(sys.argv[3])
diff = sorted(((load.get(k, 0) - base.get(k, 0)) / n, k) for k in set(base) | set(load))[::-1]
print(f"page {sys.argv[4]}, {n} keep-alive requests (gzip): {sum(d for d, _ in diff):,.0f} instructions per request")
for d, k in diff[:12]:
    print(f"{d:10,.0f}  {k}")
PY
