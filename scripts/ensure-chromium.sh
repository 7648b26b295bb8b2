#!/usr/bin/env bash
# Run before `npm test`: the GraphiQL browser test drives Debian's Chromium.
# Installs it when missing and this machine can (root with apt-get); otherwise says how.
set -euo pipefail
browser=${CHROMIUM_PATH:-/usr/bin/chromium}
[ -x "$browser" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the browser test (once)…"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "The browser test needs Chromium at $browser: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH." >&2
exit 1
