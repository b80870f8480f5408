#!/usr/bin/env bash
# CI entry point for the real-API-server suite (.ci/run calls it after `npm test`, once `npm ci` has
# run): builds kube-apiserver v1.20.2 from Debian's source package, or reuses the binary cached under
# /var/cache/image-admission-webhook/ (about 10 minutes cold on 2 cores, seconds warm), then runs the
# suite against it (a few minutes). Bounded so that a stuck build cannot eat CI's 90 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."

started=$(date +%s)
echo "== kube-apiserver (build or cache)"
timeout 65m bash scripts/apiserver/build-kube-apiserver.sh
echo "== kube-apiserver ready after $(( $(date +%s) - started ))s"

echo "== npm run test:apiserver"
suite_started=$(date +%s)
timeout 15m bash scripts/apiserver/run.sh
echo "== real-API-server suite passed in $(( $(date +%s) - suite_started ))s (total $(( $(date +%s) - started ))s)"
