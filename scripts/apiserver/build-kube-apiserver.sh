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

# Install the run-time tools (etcd, openssl, curl) even when the binary is cached:
# a fresh machine may have the cache directory restored but not the packages.
need_pkgs=()
command -v etcd >/dev/null 2>&1 || need_pkgs+=(etcd-server)
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  apt_update_once
  log "installing ${need_pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -o DPkg::Lock::Timeout=900 -y -qq --no-install-recommends "${need_pkgs[@]}" >&2
fi

# One build at a time (a developer session and CI may share the machine and its cache).
mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR.lock"
if ! flock -n 9; then
  log "waiting for another build of $CACHE_DIR to finish"
  flock 9
fi

# Which binaries are missing. kubectl is built from the same tree: Debian's own kubernetes-client
# 1.20.2 is built with Go 1.19 against reflect2 1.0.1 and crashes as soon as it encodes a map
# (e.g. `kubectl config set-credentials`).
targets=()
[ -x "$BIN" ] && "$BIN" --version >/dev/null 2>&1 || targets+=(cmd/kube-apiserver)
[ -x "$KUBECTL" ] && "$KUBECTL" version --client >/dev/null 2>&1 || targets+=(cmd/kubectl)
if [ "${#targets[@]}" -eq 0 ]; then
  log "reusing cached kube-apiserver and kubectl in $CACHE_DIR"
  echo "$BIN"
  exit 0
fi

log "building ${targets[*]} v$KUBE_VERSION from Debian's source package into $CACHE_DIR (about 10 minutes on 2 idle cores)"
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
log "make WHAT=\"${targets[*]}\" (log lines follow)"
start=$(date +%s)
make WHAT="${targets[*]}" >&2
log "built in $(( $(date +%s) - start ))s"

mkdir -p "$CACHE_DIR"
for target in "${targets[@]}"; do
  name="$(basename "$target")"
  out="$(find "$TREE/_output" -type f -name "$name" -perm -u+x | head -n1)"
  if [ -z "$out" ]; then log "$name not found under _output"; exit 1; fi
  install -m 0755 "$out" "$CACHE_DIR/$name.tmp"
  mv "$CACHE_DIR/$name.tmp" "$CACHE_DIR/$name"
done
"$BIN" --version >&2
"$KUBECTL" version --client --short >&2
# Keep the cache small: the two binaries are all the suite needs.
cd "$CACHE_DIR"
rm -rf "$BUILD_DIR"
log "kube-apiserver: $BIN"
echo "$BIN"
