#!/usr/bin/env bash
# The default site plus 10,000 generated news posts (benches/scale.rs),
# served by a release build: start-up time on the existing database,
# resident memory, the first render of the large pages, the sitemap,
# search over HTTP, and the admin (list pages, an edit until served).
#
#   bench/scale.sh [POSTS]
#
# Needs curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
POSTS="${1:-10000}"
PORT="${PORT:-18183}"
OUT="$(mktemp -d /tmp/casefile-scale.XXXXXX)"
cleanup() { [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null || true; rm -rf "$OUT"; }
trap cleanup EXIT

cargo build --release --quiet
cargo bench --quiet --bench scale -- "$OUT/data" "$POSTS"

start() {
  "target/release/casefile" serve --listen "127.0.0.1:$PORT" --data "$OUT/data" --search-rate-limit 0 2>"$OUT/log" &
  PID=$!
  for _ in $(seq 1 600); do grep -q "listening on" "$OUT/log" && break; sleep 0.1; done
}
rss() { awk '/VmRSS/ {printf "%.0f MB", $2/1024}' "/proc/$PID/status"; }
ready() { grep -o 'ready_ms=[0-9]*' "$OUT/log" | cut -d= -f2; }
# The first start builds the search index; later ones open it.
start
echo "ready, first start (search index built): $(ready) ms"
kill "$PID"; wait "$PID" || true
start
echo "ready on the existing database: $(ready) ms"
echo "resident after start: $(rss)"

BASE="http://127.0.0.1:$PORT"
first() { curl -s -o /dev/null -w "%{http_code} %{size_download} bytes %{time_total} s" "$BASE$1"; }
for p in /news "/news?page=250" /de/neuigkeiten /news/post-5000-en /de/neuigkeiten/post-5000-de / /timeline; do
  echo "first render $p: $(first "$p"); again: $(first "$p")"
done
echo "sitemap index: $(first /sitemap.xml)"
echo "sitemap part 1: $(first /sitemap-1.xml)"
python3 bench/search_http.py "127.0.0.1:$PORT" 200 --new
echo "resident after the requests: $(rss)"
# The admin over 10,000 posts: its list pages, and an edit until served.
echo "correct horse battery staple" | target/release/casefile user add --email bench@example.org --role editor --data "$OUT/data" 2>/dev/null
python3 bench/admin_http.py "127.0.0.1:$PORT" bench@example.org "correct horse battery staple" 50 "${EDITS:-3}"
echo "resident after the edits: $(rss)"
