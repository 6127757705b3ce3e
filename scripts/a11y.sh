#!/usr/bin/env bash
# Accessibility audit: axe-core (WCAG 2.0/2.1/2.2 A and AA, best practices)
# in headless Chromium over every page of the default site, both languages.
#
#   scripts/a11y.sh            # uses target/debug/casefile (build it first)
#   scripts/a11y.sh --install  # only installs the tools; prints axe.min.js's path
#
# Needs the Debian packages chromium and chromium-driver, and Node with npm;
# installs @axe-core/cli into a cache folder on first use. Exits 1 on any
# violation.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-target/debug/casefile}"
PORT="${PORT:-18191}"
TOOLS="${A11Y_TOOLS:-$HOME/.cache/casefile-a11y}"
for tool in chromium chromedriver npm; do
  command -v "$tool" >/dev/null || { echo "a11y: $tool is missing (apt-get install chromium chromium-driver nodejs npm)" >&2; exit 2; }
done
if [ ! -x "$TOOLS/node_modules/.bin/axe" ]; then
  mkdir -p "$TOOLS"
  (cd "$TOOLS" && npm init -y >/dev/null && CHROMEDRIVER_SKIP_DOWNLOAD=true npm install --no-audit --no-fund @axe-core/cli@4 >/dev/null)
fi
if [ "${1:-}" = "--install" ]; then
  echo "$TOOLS/node_modules/axe-core/axe.min.js"
  exit 0
fi

DATA="$(mktemp -d)"
"$BIN" serve --listen "127.0.0.1:$PORT" --data "$DATA/data" 2>"$DATA/log" &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$DATA/log" && break; sleep 0.1; done

BASE="http://127.0.0.1:$PORT"
PATHS=(/ /case /timeline /evidence /voices /pardon /press "/press?kind=film" /film /books /news /speaking /newsletter
       /contact /privacy /my-data /search "/search?q=DNA" /no-such-page
       /newsletter/thanks /pardon/thanks "/newsletter/confirm?t=invalid" /de/kontakt/thanks
       /de/ /de/fall /de/chronik /de/beweise /de/stimmen /de/begnadigung /de/presse /de/film /de/buecher /de/neuigkeiten
       /de/vortraege /de/newsletter /de/kontakt /de/datenschutz /de/meine-daten /de/suche "/de/suche?q=DNA")
# One news item per language, found on the news pages.
PATHS+=("$(curl -sf "$BASE/news" | sed 's|&#x2f;|/|g' | grep -o 'href="/news/[^"]*"' | head -1 | cut -d'"' -f2)")
PATHS+=("$(curl -sf "$BASE/de/neuigkeiten" | sed 's|&#x2f;|/|g' | grep -o 'href="/de/neuigkeiten/[^"]*"' | head -1 | cut -d'"' -f2)")
URLS=()
for p in "${PATHS[@]}"; do URLS+=("$BASE$p"); done

"$TOOLS/node_modules/.bin/axe" "${URLS[@]}" \
  --chromedriver-path "$(command -v chromedriver)" --chrome-path "$(command -v chromium)" \
  --chrome-options="headless,no-sandbox,disable-gpu,disable-quic,no-first-run,disable-background-networking,disable-component-update,disable-sync,user-data-dir=$(mktemp -d)" \
  --tags wcag2a,wcag2aa,wcag21a,wcag21aa,wcag22aa,best-practice --exit
