#!/usr/bin/env bash
# `casefile export` against Hugo (issue #12): the same generated news posts,
# in English and German, exported by Casefile and built by Hugo on the same
# machine in the same run, alternately, each into a fresh folder.
#
#   bench/hugo.sh [POSTS] [RUNS]          # defaults: 10000 posts, 3 runs
#
# The measurement for BENCHMARKS.md, with a release build and nothing else
# running:
#
#   cargo build --release && bench/hugo.sh 10000 3
#
# CASEFILE=path/to/casefile picks another binary (default
# target/release/casefile); this script never builds. PORT (default 18184)
# is where a server starts once to build the search index. KEEP=1 keeps the
# generated sites and the last run's outputs (the folder is printed).
#
# bench/hugo_site.py writes the posts twice from one seeded generator: a
# Casefile bundle (site.toml, sources.toml, pages/home.md, pages/news.md,
# news/post-N.md) and a multilingual Hugo site (news/post-N.md and
# post-N.de.md: same titles, summaries, slugs, dates, sources and Markdown
# bodies of about 500 words) with small layouts of its own (no theme), news
# lists of 20 a page, Hugo's RSS, sitemap and robots.txt, no taxonomies, and
# uglyURLs (news/<slug>.html, the layout Casefile's export writes).
# The bundle is imported once into a fresh data folder and a server started
# once on it to build its search index (both timed, neither part of the
# comparison: every later export opens that index). Then, RUNS times:
# `hugo` with the posts in English only (10,000 pages for 10,000 posts: the
# Hugo side of the target in PRODUCT.md and issue #12, "at least 2 x faster
# than Hugo builds 10,000 pages"), `hugo` with both languages (the same
# work as Casefile's export), `casefile export` and `casefile export
# --no-twins`, each into a fresh folder and under /usr/bin/time (wall
# seconds, peak resident memory, CPU seconds). The summary gives the
# medians, the ratios Hugo/Casefile against both Hugo builds (the target:
# at least 2 against the English-only one) and the peak memory of each (the
# target for Casefile: under 500 MB).
#
# What still differs in the output: Hugo writes every page of the news
# lists (/news/page/N.html), Casefile's export only the first (the others
# are /news?page=N, which a static host cannot answer); Casefile writes
# Atom, RSS and JSON feeds with every post (Atom and JSON with the full
# text), Hugo an RSS of the home and one of the news per language, with
# summaries; Casefile's pages carry more head (Open Graph, JSON-LD, a search
# form) and every text file gets .gz and .br twins. The per-run lines count the files.
#
# Machine notes (nproc, memory, hugo version, the commit) are printed first.
# Needs python3, hugo (apt-get install -y hugo) and /usr/bin/time (package
# `time`, installed here if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
POSTS="${1:-10000}"
RUNS="${2:-3}"
CASEFILE="${CASEFILE:-target/release/casefile}"
PORT="${PORT:-18184}"

if [ ! -x "$CASEFILE" ]; then
  echo "no Casefile binary at $CASEFILE: build it first with" >&2
  echo "  cargo build --release" >&2
  echo "(or point CASEFILE= at one)" >&2
  exit 1
fi
command -v hugo >/dev/null || { echo "hugo is missing: apt-get install -y hugo" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is missing" >&2; exit 1; }
if [ ! -x /usr/bin/time ]; then
  echo "installing /usr/bin/time (package time)" >&2
  apt-get install -y -qq time >/dev/null || { echo "cannot install time: apt-get install -y time" >&2; exit 1; }
fi

TMP="$(mktemp -d /tmp/casefile-hugo.XXXXXX)"
cleanup() {
  if [ -n "${PID:-}" ]; then kill "$PID" 2>/dev/null || true; fi
  if [ -n "${KEEP:-}" ]; then echo "kept: $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

echo "== machine"
echo "date:     $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "nproc:    $(nproc)"
echo "memory:   $(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo)"
echo "hugo:     $(hugo version)"
echo "casefile: $CASEFILE ($("$CASEFILE" --version 2>/dev/null || echo "version unknown"); the repository is at $(git rev-parse --short HEAD 2>/dev/null || echo "?"))"
echo "command:  bench/hugo.sh $POSTS $RUNS"

# Wall seconds, peak RSS (KB), user and system seconds of a command, into
# $TMP/time; its output into $TMP/log (shown if it fails).
measure() {
  if ! /usr/bin/time -f "%e %M %U %S" -o "$TMP/time" "$@" >"$TMP/log" 2>&1; then
    echo "failed: $*" >&2
    tail -n 40 "$TMP/log" >&2
    exit 1
  fi
  read -r WALL KB UTIME STIME <"$TMP/time"
}
mb() { echo $((($1 + 512) / 1024)); }
count() { find "$1" -type f "${@:2}" | wc -l; }
bytes() { find "$1" -type f "${@:2}" -printf '%s\n' | awk '{s += $1} END {printf "%.0f", s / 1048576}'; }

echo "== generating $POSTS posts in two languages, twice (Casefile bundle, Hugo site)"
measure python3 bench/hugo_site.py "$POSTS" "$TMP/bundle" "$TMP/hugo"
echo "generated in $WALL s: bundle $(count "$TMP/bundle") files, $(bytes "$TMP/bundle") MB; Hugo site $(count "$TMP/hugo") files, $(bytes "$TMP/hugo") MB"

echo "== import (once, not part of the comparison)"
measure "$CASEFILE" import "$TMP/bundle" --data "$TMP/data" --yes
echo "casefile import: $WALL s, $(mb "$KB") MB peak ($(grep -E 'created, .* unchanged' "$TMP/log" | tail -n 1))"
# The first process to open a data folder builds its search index (kept in
# <data>/search, opened by every later one): a server started once builds
# it here, so that no export run pays for it.
STARTED=$(date +%s.%N)
"$CASEFILE" serve --listen "127.0.0.1:$PORT" --data "$TMP/data" 2>"$TMP/serve.log" &
PID=$!
for _ in $(seq 1 3000); do grep -q "listening on" "$TMP/serve.log" && break; sleep 0.1; done
grep -q "listening on" "$TMP/serve.log" || { echo "casefile serve did not start:" >&2; tail -n 20 "$TMP/serve.log" >&2; exit 1; }
kill "$PID"; wait "$PID" || true; PID=
echo "search index built by a first start: $(python3 -c "import time; print(f'{time.time() - $STARTED:.2f}')") s (not part of the comparison)"

echo "== $RUNS runs, alternately"
: >"$TMP/results"
for run in $(seq 1 "$RUNS"); do
  # Each run writes into folders of its own, deleted only at the end:
  # deleting tens of thousands of files between runs made ext4's inode
  # allocator (its check for recently deleted inodes) most of the next
  # run's system time, for both tools.
  H_OUT="$TMP/run-$run/hugo-out" C_OUT="$TMP/run-$run/casefile-out"
  mkdir -p "$TMP/run-$run"
  sync
  # The target's Hugo: 10,000 pages (the posts in English only).
  measure hugo --quiet --source "$TMP/hugo" --config config.toml,en-only.toml --destination "$TMP/run-$run/hugo-en-out" --cacheDir "$TMP/run-$run/hugo-en-cache"
  T_WALL=$WALL T_KB=$KB T_CPU="$UTIME+$STIME" T_HTML=$(count "$TMP/run-$run/hugo-en-out" -name '*.html')
  sync
  # The same work as Casefile's: both languages.
  measure hugo --quiet --source "$TMP/hugo" --destination "$H_OUT" --cacheDir "$TMP/run-$run/hugo-cache"
  H_WALL=$WALL H_KB=$KB H_CPU="$UTIME+$STIME"
  H_FILES=$(count "$H_OUT") H_MB=$(bytes "$H_OUT") H_HTML=$(count "$H_OUT" -name '*.html')
  sync
  measure "$CASEFILE" export --data "$TMP/data" --out "$C_OUT" --base-url https://bench.example --quiet
  C_WALL=$WALL C_KB=$KB C_CPU="$UTIME+$STIME"
  C_FILES=$(count "$C_OUT")
  C_PLAIN=$(count "$C_OUT" ! -name '*.gz' ! -name '*.br')
  C_MB=$(bytes "$C_OUT" ! -name '*.gz' ! -name '*.br')
  C_HTML=$(count "$C_OUT" -name '*.html')
  printf 'run %s: hugo (English only) %6.2f s %5s MB (cpu %s s) %s html\n' "$run" "$T_WALL" "$(mb "$T_KB")" "$T_CPU" "$T_HTML"
  printf '       hugo %6.2f s %5s MB (cpu %s s) %6s files, %s html, %s MB | casefile export %6.2f s %5s MB (cpu %s s) %6s files, %s without .gz/.br twins, %s html, %s MB without twins\n' \
    "$H_WALL" "$(mb "$H_KB")" "$H_CPU" "$H_FILES" "$H_HTML" "$H_MB" \
    "$C_WALL" "$(mb "$C_KB")" "$C_CPU" "$C_FILES" "$C_PLAIN" "$C_HTML" "$C_MB"
  sync
  measure "$CASEFILE" export --no-twins --data "$TMP/data" --out "$TMP/run-$run/plain-out" --base-url https://bench.example --quiet
  printf '       casefile export --no-twins %6.2f s %5s MB (cpu %s s) %6s files\n' "$WALL" "$(mb "$KB")" "$UTIME+$STIME" "$(count "$TMP/run-$run/plain-out")"
  echo "$H_WALL $H_KB $C_WALL $C_KB $WALL $KB $T_WALL $T_KB" >>"$TMP/results"
done

echo "== summary ($POSTS posts, $((2 * POSTS)) post pages, $RUNS runs)"
python3 - "$TMP/results" <<'EOF'
import statistics, sys
rows = [list(map(float, line.split())) for line in open(sys.argv[1])]
hugo, hugo_kb, cf, cf_kb, plain, plain_kb, target, target_kb = (statistics.median(c) for c in zip(*rows))
hugo_peak, cf_peak = max(max(r[1], r[7]) for r in rows) / 1024, max(max(r[3], r[5]) for r in rows) / 1024
verdict = lambda ratio: "met" if ratio >= 2 else "not met"
print(f"hugo, English only (the target's): median {target:7.2f} s")
print(f"hugo, both languages (the same work): median {hugo:7.2f} s, peak {hugo_peak:6.0f} MB")
print(f"casefile export: median {cf:7.2f} s, peak {cf_peak:6.0f} MB; with --no-twins {plain:.2f} s")
print(f"the target, hugo (English only) / casefile export: {target / cf:.2f} x  (target >= 2: {verdict(target / cf)})")
print(f"  with --no-twins: {target / plain:.2f} x  ({verdict(target / plain)})")
print(f"the same work, hugo (both languages) / casefile export: {hugo / cf:.2f} x; with --no-twins {hugo / plain:.2f} x")
print(f"casefile peak memory under 500 MB: {'met' if cf_peak < 500 else 'not met'}")
EOF
