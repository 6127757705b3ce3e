#!/usr/bin/env bash
# Casefile against nginx serving the same bytes, in one run.
#
#   bench/run.sh [rounds] [seconds]
#
# Starts a release build of Casefile over a fresh data folder, saves the home
# page's bytes (plain and gzip), serves the same bytes from nginx
# (gzip_static for the compressed case), then loads both alternately with
# wrk (same connections, same duration), pinning the servers to core 0 and
# wrk to core 1. Prints medians: throughput, ratio, p50/p99 latency,
# Casefile's resident memory and its start-up time on an existing database.
# Needs: nginx, wrk, taskset, curl (apt-get install nginx-light wrk curl).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-3}"
SECS="${2:-10}"
CONNS="${CONNS:-64}"
PAGE="${PAGE:-/}"   # the page to compare, e.g. PAGE=/timeline
CF_PORT="${CF_PORT:-18181}"
NG_PORT="${NG_PORT:-18182}"
for tool in nginx wrk taskset curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install nginx-light wrk util-linux curl)" >&2; exit 2; }
done

OUT="$(mktemp -d /tmp/casefile-bench.XXXXXX)"
chmod 755 "$OUT"   # nginx workers run as an unprivileged user
cleanup() {
  [ -n "${CF_PID:-}" ] && kill "$CF_PID" 2>/dev/null || true
  [ -f "$OUT/nginx.pid" ] && kill "$(cat "$OUT/nginx.pid")" 2>/dev/null || true
}
trap cleanup EXIT

cargo build --release --quiet
BIN=target/release/casefile

start_casefile() {
  taskset -c 0 "$BIN" serve --listen "127.0.0.1:$CF_PORT" --data "$OUT/data" 2>"$OUT/casefile.log" &
  CF_PID=$!
  for _ in $(seq 1 100); do
    grep -q "listening on" "$OUT/casefile.log" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "bench: Casefile did not start" >&2; cat "$OUT/casefile.log" >&2; exit 1
}

start_casefile   # first start: creates the database
kill "$CF_PID"; wait "$CF_PID" 2>/dev/null || true
: > "$OUT/casefile.log"
start_casefile   # second start: existing database, this is the start-up we report
READY_MS=$(grep -o 'ready_ms=[0-9]*' "$OUT/casefile.log" | cut -d= -f2 || true)

mkdir -p "$OUT/www"; chmod 755 "$OUT/www"
curl -sf "http://127.0.0.1:$CF_PORT$PAGE" -o "$OUT/www/index.html"
# The first answer is compressed quickly and the kept page harder in the
# background: take the gzip bytes Casefile serves from then on.
sleep 1
curl -sf -H 'Accept-Encoding: gzip' "http://127.0.0.1:$CF_PORT$PAGE" -o "$OUT/www/index.html.gz"
chmod 644 "$OUT"/www/*
PLAIN_BYTES=$(stat -c %s "$OUT/www/index.html")
GZ_BYTES=$(stat -c %s "$OUT/www/index.html.gz")

cat > "$OUT/nginx.conf" <<NGINX
worker_processes 1;
pid $OUT/nginx.pid;
error_log $OUT/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $OUT/tmp; proxy_temp_path $OUT/tmp; fastcgi_temp_path $OUT/tmp;
  uwsgi_temp_path $OUT/tmp; scgi_temp_path $OUT/tmp;
  default_type text/html;
  etag on;
  gzip_static on;
  server {
    listen 127.0.0.1:$NG_PORT;
    root $OUT/www;
    location = / { try_files /index.html =404; }
  }
}
NGINX
mkdir -p "$OUT/tmp"
taskset -c 0 nginx -c "$OUT/nginx.conf"
sleep 0.3
# Both servers must answer with the same bytes, or the comparison means nothing.
curl -sf "http://127.0.0.1:$NG_PORT/" | cmp -s - "$OUT/www/index.html" || { echo "bench: nginx does not serve the page" >&2; exit 1; }
curl -sf -H 'Accept-Encoding: gzip' "http://127.0.0.1:$NG_PORT/" | cmp -s - "$OUT/www/index.html.gz" || { echo "bench: nginx does not serve the gzip file" >&2; exit 1; }

run_wrk() { # name url [header]
  local name=$1 url=$2 header=${3:-}
  local args=(-t1 "-c$CONNS" "-d${SECS}s" --latency)
  [ -n "$header" ] && args+=(-H "$header")
  taskset -c 1 wrk "${args[@]}" "$url" > "$OUT/$name.txt"
  python3 - "$OUT/$name.txt" "$name" >> "$OUT/results.tsv" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
# Anchored: "97.50%" in the stdev column must not pass for the 50th percentile.
p50 = ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
sock = re.search(r"Socket errors: (.*)", text)
print(f"{sys.argv[2]}\t{rps}\t{p50}\t{p99}\t{errors.group(1) if errors else 0}\t{sock.group(1) if sock else ''}")
PY
}

: > "$OUT/results.tsv"
for round in $(seq 1 "$ROUNDS"); do
  run_wrk casefile-plain "http://127.0.0.1:$CF_PORT$PAGE"
  run_wrk nginx-plain "http://127.0.0.1:$NG_PORT/"
  run_wrk casefile-gzip "http://127.0.0.1:$CF_PORT$PAGE" "Accept-Encoding: gzip"
  run_wrk nginx-gzip "http://127.0.0.1:$NG_PORT/" "Accept-Encoding: gzip"
done
RSS_KB=$(awk '/VmRSS/ {print $2}' "/proc/$CF_PID/status")
HWM_KB=$(awk '/VmHWM/ {print $2}' "/proc/$CF_PID/status")

python3 - "$OUT/results.tsv" "$PLAIN_BYTES" "$GZ_BYTES" "$RSS_KB" "$HWM_KB" "$READY_MS" "$ROUNDS" "$SECS" "$CONNS" "$PAGE" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines()]
plain, gz, rss, hwm, ready, rounds, secs, conns, page = sys.argv[2:]
med = lambda name, i: statistics.median(float(r[i]) for r in rows if r[0] == name)
print(f"page {page}: {plain} bytes plain, {gz} bytes gzip; wrk -t1 -c{conns} -d{secs}s, {rounds} alternating rounds, medians")
print(f"{'':16}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
for name in ["casefile-plain", "nginx-plain", "casefile-gzip", "nginx-gzip"]:
    print(f"{name:16}{med(name,1):>10.0f}{med(name,2):>9.2f}{med(name,3):>9.2f}")
for kind in ["plain", "gzip"]:
    print(f"{kind}: throughput ratio {med('casefile-'+kind,1)/med('nginx-'+kind,1):.2f} x nginx, "
          f"p99 ratio {med('casefile-'+kind,3)/med('nginx-'+kind,3):.2f} x nginx")
bad = [r for r in rows if r[4] != "0" or r[5]]
print(f"errors: {'none' if not bad else bad}")
print(f"casefile resident memory after load: {int(rss)/1024:.1f} MB (peak {int(hwm)/1024:.1f} MB)")
print(f"casefile ready on an existing database: {ready} ms")
PY
