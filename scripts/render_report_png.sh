#!/usr/bin/env bash
# Renders a report HTML page to a PNG with headless Chromium, to check that it displays as intended.
#
#   scripts/render_report_png.sh REPORT.html OUT.png [WIDTH [HEIGHT]]     (default 1200 x 3000 pixels)
#
# Installs Debian's `chromium` package when no chromium is found (apt-get, with sudo when not root); nothing
# else in the project needs it, so scripts/setup.sh does not install it.
set -euo pipefail
if [ $# -lt 2 ] || [ $# -gt 4 ]; then
  echo "usage: $0 REPORT.html OUT.png [WIDTH [HEIGHT]]" >&2
  exit 2
fi
html="$1" out="$2" width="${3:-1200}" height="${4:-3000}"
[ -f "$html" ] || { echo "render_report_png: $html: no such file" >&2; exit 1; }
case "$width$height" in *[!0-9]*) echo "render_report_png: WIDTH and HEIGHT must be numbers" >&2; exit 2 ;; esac

find_chromium() { command -v chromium || command -v chromium-browser || true; }
bin="$(find_chromium)"
if [ -z "$bin" ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "render_report_png: installing Debian's chromium" >&2
  if ! $sudo apt-get install -y -qq chromium >/dev/null; then
    $sudo apt-get update -qq   # a fresh machine may have no package lists yet
    $sudo apt-get install -y -qq chromium >/dev/null
  fi
  bin="$(find_chromium)"
  [ -n "$bin" ] || { echo "render_report_png: chromium still missing after installing it" >&2; exit 1; }
fi

abs_html="$(cd "$(dirname "$html")" && pwd)/$(basename "$html")"
mkdir -p "$(dirname "$out")"
out_dir="$(cd "$(dirname "$out")" && pwd)"
abs_out="$out_dir/$(basename "$out")"
# Write to a temporary name and rename, so a failed render never leaves a partial PNG under OUT's name.
tmp="$(mktemp "$out_dir/.render-XXXXXX.png")"
profile="$(mktemp -d)"
trap 'rm -rf "$profile" "$tmp"' EXIT
# --no-sandbox: needed when running as root (containers, CI). A private profile keeps runs independent.
"$bin" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" \
  --window-size="$width,$height" --screenshot="$tmp" "file://$abs_html" >/dev/null 2>&1 || {
  echo "render_report_png: chromium failed to render $html" >&2; exit 1; }
[ -s "$tmp" ] || { echo "render_report_png: chromium wrote no screenshot" >&2; exit 1; }
chmod 644 "$tmp"   # mktemp creates 0600
mv "$tmp" "$abs_out"
echo "$abs_out"
