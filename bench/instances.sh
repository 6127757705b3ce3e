#!/usr/bin/env bash
# One instance on SQLite against two instances on one PostgreSQL database,
# in one run: a cached page and petition signatures (form posts).
#
#   bench/instances.sh [rounds] [seconds]
#
# Starts a release build three times, all serving without background jobs
# (--no-worker: the mail worker would compete for the two cores): S on
# SQLite, A and B on a fresh PostgreSQL database `casefile_bench` at
# $PG_URL (default postgres://postgres@127.0.0.1:5432), sharing one data
# folder. Each round loads, in turn:
#   - the cached page /case: wrk -t1 -c32 on S; on A and B at once (two
#     wrk -t1 -c16, their rates summed);
#   - signatures of the petition (/pardon), each from a new address, with
#     one valid form token: wrk -t1 -c$POST_CONNS (default 1536) on S, half
#     that on each of A and B. Every post is answered no sooner than 300 ms
#     after it arrived (the forms' answer floor), so N connections cannot
#     post more than N / 0.3 s; the default leaves room above what the
#     databases take.
# Nothing is pinned: on two cores the servers, PostgreSQL and wrk share
# them, as they would on one small machine. Prints the medians and the
# ratio of the two setups. Needs wrk, curl, psql and a PostgreSQL server.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-3}"
SECS="${2:-5}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
POST_CONNS="${POST_CONNS:-1536}"
ulimit -n 65536 2>/dev/null || true
for tool in wrk curl psql; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install wrk curl postgresql-client)" >&2; exit 2; }
done
OUT="$(mktemp -d /tmp/casefile-instances.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS casefile_bench" -c "CREATE DATABASE casefile_bench"
cargo build --release --quiet
cat > "$OUT/casefile.toml" <<TOML
no_worker = true
form_min_seconds = 0
form_rate_limit = 100000000
max_connections_per_address = 4096
TOML

# start NAME PORT DATA [serve args]: starts a server, waits until it listens.
start() {
  local name=$1 port=$2 data=$3; shift 3
  target/release/casefile serve --config "$OUT/casefile.toml" --listen "127.0.0.1:$port" --data "$data" "$@" \
    2>"$OUT/$name.log" &
  PIDS+=($!)
  for _ in $(seq 1 400); do grep -q "listening on" "$OUT/$name.log" 2>/dev/null && return; sleep 0.05; done
  echo "bench: $name did not start" >&2; cat "$OUT/$name.log" >&2; exit 1
}
start S 18191 "$OUT/sqlite"
start A 18192 "$OUT/pg" --database "$PG_URL/casefile_bench"
start B 18193 "$OUT/pg" --database "$PG_URL/casefile_bench"

# A form token for the petition: signed with the key A and B share (one
# data folder), S's own for S.
token() { curl -sf "http://127.0.0.1:$1/pardon" | grep -o 'name="token" value="[^"]*"' | head -1 | cut -d'"' -f4; }
# sign.lua PORT: every request signs with a new address.
post_script() {
  cat > "$OUT/sign-$1.lua" <<LUA
local n = 0
math.randomseed(os.time())
local prefix = "$1-" .. os.time() .. "-" .. math.random(1, 1000000000) .. "-"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Origin"] = "http://127.0.0.1:$1"
request = function()
  n = n + 1
  local body = "token=$(token "$1")&name=Bench&country=Germany&consent=yes&email=s" .. prefix .. n .. "%40example.org"
  return wrk.format(nil, "/pardon", nil, body)
end
LUA
}
for port in 18191 18192 18193; do
  curl -sf -o /dev/null "http://127.0.0.1:$port/case" || { echo "bench: /case on $port does not answer 200" >&2; exit 1; }
  post_script "$port"
done
sleep 1   # let the cached page's maximum compression finish

# load LABEL CONNECTIONS SCRIPT PORT...: wrk on every port at once; prints
# "LABEL<TAB>summed req/s<TAB>non-2xx/3xx answers".
load() {
  local label=$1 conns=$2 script=$3; shift 3
  local pids=() i=0
  for port in "$@"; do
    local args=(-t1 "-c$conns" "-d${SECS}s")
    [ "$script" = sign ] && args+=(-s "$OUT/sign-$port.lua")
    wrk "${args[@]}" "http://127.0.0.1:$port/case" > "$OUT/wrk-$i.txt" &
    pids+=($!); i=$((i + 1))
  done
  wait "${pids[@]}"
  python3 - "$label" "$OUT"/wrk-*.txt <<'PY'
import re, sys
rps = bad = 0
for path in sys.argv[2:]:
    text = open(path).read()
    rps += float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    bad += int(m.group(1)) if m else 0
print(f"{sys.argv[1]}\t{rps}\t{bad}")
PY
  rm -f "$OUT"/wrk-*.txt
}

: > "$OUT/results.tsv"
for _ in $(seq 1 "$ROUNDS"); do
  load "cached sqlite-1" 32 page 18191 >> "$OUT/results.tsv"
  load "cached postgres-2" 16 page 18192 18193 >> "$OUT/results.tsv"
  load "posts sqlite-1" "$POST_CONNS" sign 18191 >> "$OUT/results.tsv"
  load "posts postgres-2" $((POST_CONNS / 2)) sign 18192 18193 >> "$OUT/results.tsv"
done

signed_sqlite=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM signatures').fetchone()[0])" "$OUT/sqlite/casefile.db")
signed_pg=$(psql "$PG_URL/casefile_bench" -tAc "SELECT COUNT(*) FROM signatures")
python3 - "$OUT/results.tsv" "$ROUNDS" "$SECS" "$signed_sqlite" "$signed_pg" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines()]
med = lambda label: statistics.median(float(r[1]) for r in rows if r[0] == label)
bad = lambda label: sum(int(r[2]) for r in rows if r[0] == label)
print(f"{sys.argv[2]} rounds of {sys.argv[3]} s, medians of summed req/s; ratio = two on PostgreSQL / one on SQLite")
print(f"{'load':10}{'1 x SQLite':>12}{'2 x PostgreSQL':>16}{'ratio':>8}{'errors':>10}")
for what in ["cached", "posts"]:
    s, p = med(f"{what} sqlite-1"), med(f"{what} postgres-2")
    print(f"{what:10}{s:>12.0f}{p:>16.0f}{p/s:>8.2f}{bad(what + ' sqlite-1') + bad(what + ' postgres-2'):>10}")
print(f"signatures stored: {sys.argv[4]} on SQLite, {sys.argv[5]} on PostgreSQL")
PY
