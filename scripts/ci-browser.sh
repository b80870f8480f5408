#!/usr/bin/env bash
# Renders the HTML reports in headless Chromium and checks the screenshots (npm run test:browser).
# Installs Debian's chromium when it is missing; needs root (as CI and the dev machines run).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
  echo "chromium is missing: installing the Debian package" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
[ -d node_modules ] || npm ci
npm run test:browser
