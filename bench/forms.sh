#!/usr/bin/env bash
# Form pages and search against a cached page, in one run.
#
#   bench/forms.sh [rounds] [seconds]
#
# Starts a release build over a fresh data folder and loads, in turn, a
# cached page (/case), every form page (the home page with its sign-up box,
# /pardon, /newsletter, /contact and their German twins) and a search with
# wrk -t1 -c32, plain and with "Accept-Encoding: gzip", Casefile pinned to
# core 0 and wrk to core 1, then searches that are each new ("DNA 1",
# "DNA 2", …: no cached result helps). Prints the median requests/s of
# each and its ratio to the cached page. Needs wrk, taskset and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-3}"
SECS="${2:-5}"
PORT="${CF_PORT:-18183}"
for tool in wrk taskset curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install wrk util-linux curl)" >&2; exit 2; }
done
OUT="$(mktemp -d /tmp/casefile-forms.XXXXXX)"
cleanup() { [ -n "${CF_PID:-}" ] && kill "$CF_PID" 2>/dev/null || true; }
trap cleanup EXIT

cargo build --release --quiet
taskset -c 0 target/release/casefile serve --listen "127.0.0.1:$PORT" --data "$OUT/data" --search-rate-limit 0 2>"$OUT/casefile.log" &
CF_PID=$!
for _ in $(seq 1 200); do
  grep -q "listening on" "$OUT/casefile.log" 2>/dev/null && break
  sleep 0.05
done
grep -q "listening on" "$OUT/casefile.log" || { echo "bench: Casefile did not start" >&2; cat "$OUT/casefile.log" >&2; exit 1; }

PAGES=(/case / /pardon /newsletter /contact /de/ /de/begnadigung /de/newsletter /de/kontakt "/search?q=DNA")
for page in "${PAGES[@]}"; do
  curl -sf -o /dev/null "http://127.0.0.1:$PORT$page" || { echo "bench: $page does not answer 200" >&2; exit 1; }
done
sleep 1   # let the cached page's maximum compression finish
cat > "$OUT/new-searches.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/search?q=DNA+" .. n)
end
LUA
PAGES+=(new-searches)

: > "$OUT/results.tsv"
for round in $(seq 1 "$ROUNDS"); do
  for page in "${PAGES[@]}"; do
    for enc in plain gzip; do
      args=(-t1 -c32 "-d${SECS}s" --latency)
      [ "$enc" = gzip ] && args+=(-H "Accept-Encoding: gzip")
      url="http://127.0.0.1:$PORT$page"
      if [ "$page" = "new-searches" ]; then
        args+=(-s "$OUT/new-searches.lua"); url="http://127.0.0.1:$PORT/"
      fi
      taskset -c 1 wrk "${args[@]}" "$url" > "$OUT/wrk.txt"
      python3 - "$OUT/wrk.txt" "$page" "$enc" >> "$OUT/results.tsv" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{sys.argv[2]}\t{sys.argv[3]}\t{rps}\t{bad.group(1) if bad else 0}")
PY
    done
  done
done

python3 - "$OUT/results.tsv" "$ROUNDS" "$SECS" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines()]
med = lambda page, enc: statistics.median(float(r[2]) for r in rows if r[0] == page and r[1] == enc)
pages = list(dict.fromkeys(r[0] for r in rows))
print(f"wrk -t1 -c32 -d{sys.argv[3]}s, {sys.argv[2]} rounds, medians; ratio = against the cached page /case")
print(f"{'page':18}{'plain req/s':>12}{'ratio':>7}{'gzip req/s':>12}{'ratio':>7}")
for p in pages:
    print(f"{p:18}{med(p,'plain'):>12.0f}{med(p,'plain')/med('/case','plain'):>7.2f}"
          f"{med(p,'gzip'):>12.0f}{med(p,'gzip')/med('/case','gzip'):>7.2f}")
bad = [r for r in rows if r[3] != "0"]
print(f"non-2xx answers: {'none' if not bad else bad}")
PY
