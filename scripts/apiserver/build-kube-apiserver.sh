#!/usr/bin/env bash
# Build (or reuse) a kube-apiserver binary from Debian bookworm's `kubernetes`
# source package, for the real-API-server test suite (test/apiserver/).
#
# The binary is cached outside the repository, keyed by version, so CI on the
# same machine reuses what a developer session built. Prints the binary's path
# as the last line of stdout; progress goes to stderr.
#
# Environment:
#   KUBE_APISERVER_CACHE  cache root (default /var/cache/image-admission-webhook)
#   KUBE_VERSION          upstream version expected from the source package (default 1.20.2)
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-1.20.2}"
CACHE_ROOT="${KUBE_APISERVER_CACHE:-/var/cache/image-admission-webhook}"
CACHE_DIR="$CACHE_ROOT/kube-apiserver-v$KUBE_VERSION"
BIN="$CACHE_DIR/kube-apiserver"
KUBECTL="$CACHE_DIR/kubectl"

log() { printf '[build-kube-apiserver] %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

apt_updated=""
apt_update_once() {
  if [ -z "$apt_updated" ]; then
    log "apt-get update"
    $SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq >&2
    apt_updated=1
  fi
}

# Install the run-time tools (etcd, openssl) even when the binary is cached:
# a fresh machine may have the cache directory restored but not the packages.
need_pkgs=()
command -v etcd >/dev/null 2>&1 || need_pkgs+=(etcd-server)
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  apt_update_once
  log "installing ${need_pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -o DPkg::Lock::Timeout=900 -y -qq --no-install-recommends "${need_pkgs[@]}" >&2
fi

# kubectl of the same version, extracted from Debian's kubernetes-client
# package into the cache (installing the package could clash with another
# /usr/bin/kubectl already on the machine).
if [ ! -x "$KUBECTL" ]; then
  apt_update_once
  mkdir -p "$CACHE_DIR"
  tmp="$(mktemp -d)"
  ( cd "$tmp" && apt-get download -qq kubernetes-client >&2 )
  dpkg-deb -x "$tmp"/kubernetes-client_*.deb "$tmp/x"
  install -m 0755 "$tmp/x/usr/bin/kubectl" "$KUBECTL.tmp"
  mv "$KUBECTL.tmp" "$KUBECTL"
  rm -rf "$tmp"
  log "kubectl: $KUBECTL"
fi

if [ -x "$BIN" ] && "$BIN" --version >/dev/null 2>&1; then
  log "reusing cached kube-apiserver: $BIN"
  echo "$BIN"
  exit 0
fi

log "no cached kube-apiserver at $BIN: building v$KUBE_VERSION from Debian's source package (about 10 minutes on 2 cores)"
apt_updated=""
# deb-src entries derived from the machine's own sources (no mirror address
# written here).
SRC_LIST=/etc/apt/sources.list.d/image-admission-webhook-src.sources
if [ ! -f "$SRC_LIST" ]; then
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources | $SUDO tee "$SRC_LIST" >/dev/null
  else
    log "no /etc/apt/sources.list.d/debian.sources to derive deb-src entries from"
    exit 1
  fi
fi
apt_update_once
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -o DPkg::Lock::Timeout=900 -y -qq --no-install-recommends \
  golang-1.19-go rsync golang-github-modern-go-reflect2-dev dpkg-dev make >&2

BUILD_DIR="$CACHE_DIR/build"
mkdir -p "$BUILD_DIR"
cd "$BUILD_DIR"
# Debian versions it 1.20.5+really1.20.2: match the upstream part.
TREE="$(find "$BUILD_DIR" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | head -n1)"
if [ -z "$TREE" ] || [ ! -f "$TREE/.unpacked" ]; then
  rm -rf "$BUILD_DIR"/kubernetes*
  log "apt-get source kubernetes in $BUILD_DIR"
  apt-get source -qq kubernetes >&2
  TREE="$(find "$BUILD_DIR" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | head -n1)"
  [ -n "$TREE" ] || { log "source tree not found"; exit 1; }
  touch "$TREE/.unpacked"
fi
case "$(basename "$TREE")" in
  "kubernetes-$KUBE_VERSION" | "kubernetes-$KUBE_VERSION"+* | kubernetes-*+really"$KUBE_VERSION") ;;
  *) log "unexpected source version $(basename "$TREE") (wanted $KUBE_VERSION)"; exit 1 ;;
esac

# reflect2 1.0.1 faults in map iteration under Go >= 1.18 (the built server
# crashes on its first request); use Debian's 1.0.2.
REFLECT2=/usr/share/gocode/src/github.com/modern-go/reflect2
log "replacing vendored github.com/modern-go/reflect2 with $REFLECT2"
rm -rf "$TREE/vendor/github.com/modern-go/reflect2"
cp -rL "$REFLECT2" "$TREE/vendor/github.com/modern-go/reflect2"
find "$TREE/vendor/github.com/modern-go/reflect2" -name '*_test.go' -delete

# GOPATH mode, as Debian's debian/rules builds it: .go/src/k8s.io/kubernetes
# is a symlink to the tree itself; the tree's release tarball carries its own
# version data.
mkdir -p "$TREE/.go/src/k8s.io"
[ -L "$TREE/.go/src/k8s.io/kubernetes" ] || ln -s ../../.. "$TREE/.go/src/k8s.io/kubernetes"
export PATH="/usr/lib/go-1.19/bin:$PATH"
export GOPATH="$TREE/.go"
export GO111MODULE=off
export GOFLAGS=""
export GOPROXY=off
export CGO_ENABLED=0
export GOCACHE="$BUILD_DIR/.gocache"
export HOME="$BUILD_DIR/home"
mkdir -p "$HOME"
cd "$TREE"
log "go: $(go version)"
log "make WHAT=cmd/kube-apiserver (log lines follow)"
start=$(date +%s)
make WHAT=cmd/kube-apiserver >&2
log "built in $(( $(date +%s) - start ))s"

out="$(find "$TREE/_output" -type f -name kube-apiserver -perm -u+x | head -n1)"
if [ -z "$out" ]; then log "kube-apiserver not found under _output"; exit 1; fi
install -m 0755 "$out" "$BIN.tmp"
mv "$BIN.tmp" "$BIN"
"$BIN" --version >&2
# Keep the cache small: the binary (and kubectl) are all the suite needs.
cd "$CACHE_DIR"
rm -rf "$BUILD_DIR"
log "kube-apiserver: $BIN"
echo "$BIN"
