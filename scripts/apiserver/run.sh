#!/usr/bin/env bash
# Runs the real-API-server suite (test/apiserver/): a throw-away etcd and
# kube-apiserver on 127.0.0.1, Images served from a CustomResourceDefinition,
# and the webhook registered in URL mode. The vitest suite starts, restarts and
# stops the webhook itself; this script owns etcd and the API server.
#
# Everything started here is stopped by process id on exit, also on failure.
# Set KEEP_APISERVER_WORKDIR=1 to keep the temporary folder (logs, audit log).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
HERE="$ROOT/scripts/apiserver"

log() { printf '[apiserver-suite] %s\n' "$*" >&2; }

# Never route loopback traffic through a proxy.
unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

# KUBE_APISERVER (and KUBECTL) point at binaries to use as they are; otherwise build or reuse the cache.
if [ -z "${KUBE_APISERVER:-}" ]; then KUBE_APISERVER="$("$HERE/build-kube-apiserver.sh" | tail -n1)"; fi
# kubectl of the same version, built beside it (KUBECTL overrides).
KUBECTL="${KUBECTL:-$(dirname "$KUBE_APISERVER")/kubectl}"
log "kube-apiserver: $KUBE_APISERVER"
log "kubectl: $KUBECTL ($("$KUBECTL" version --client 2>/dev/null | head -n1))"

log "npm run build"
npm run build --silent >&2

WORK="$(mktemp -d "${TMPDIR:-/tmp}/image-admission-apiserver.XXXXXX")"
PIDS_DIR="$WORK/pids"
mkdir -p "$PIDS_DIR"
log "work folder: $WORK"

# Stops every process whose id was recorded in $PIDS_DIR (this script's and
# the suite's webhooks), TERM first, then KILL; on failure prints the logs' tails.
cleanup() {
  local code=$?
  trap - EXIT INT TERM
  # First the suite: vitest runs in its own process group (with its workers and the webhooks they
  # start), so that it can start nothing more once the rest is being stopped.
  if [ -f "$PIDS_DIR/vitest.pid" ]; then
    stop_pids "-$(cat "$PIDS_DIR/vitest.pid")"
    rm -f "$PIDS_DIR/vitest.pid"
  fi
  # Then the webhooks, the API server, etcd: each after what depends on it.
  local f
  # The suite's controllers and extra API servers (test/apiserver/controller.test.ts), before the API server.
  for f in "$PIDS_DIR"/controller-*.pid "$PIDS_DIR"/apiserver-*.pid; do
    [ -f "$f" ] && stop_pids "$(cat "$f")"
  done
  for f in "$PIDS_DIR"/webhook-*.pid "$PIDS_DIR/apiserver.pid" "$PIDS_DIR/etcd.pid"; do
    [ -f "$f" ] && stop_pids "$(cat "$f")"
  done
  if [ "$code" != 0 ]; then
    for f in apiserver.log etcd.log; do
      [ -f "$WORK/$f" ] && { log "last lines of $f (without gRPC reconnects):"; grep -v -e grpc -e clientconn "$WORK/$f" | tail -n 30 >&2; }
    done
  fi
  if [ "${KEEP_APISERVER_WORKDIR:-}" = 1 ] || [ "$code" != 0 ]; then
    log "kept $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$code"
}
# stop_pids ID...: TERM each process (or -PGID group), wait up to 10 s, then KILL what is left.
stop_pids() {
  local id alive
  for id in "$@"; do kill -TERM -- "$id" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=0
    for id in "$@"; do kill -0 -- "$id" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && return 0
    sleep 0.2
  done
  for id in "$@"; do kill -KILL -- "$id" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# wait_for DESCRIPTION SECONDS PID COMMAND...: polls COMMAND until it succeeds,
# failing early when PID has died.
wait_for() {
  local what="$1" seconds="$2" pid="$3"; shift 3
  local deadline=$(( $(date +%s) + seconds ))
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then log "$what: process $pid exited"; return 1; fi
    if [ "$(date +%s)" -ge "$deadline" ]; then log "$what: not ready after ${seconds}s"; return 1; fi
    sleep 0.5
  done
}

# --- etcd -------------------------------------------------------------------
ETCD_PORT="$(free_port)"
ETCD_PEER_PORT="$(free_port)"
etcd --name apiserver-suite --data-dir "$WORK/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "apiserver-suite=http://127.0.0.1:$ETCD_PEER_PORT" \
  --logger zap --log-level warn >"$WORK/etcd.log" 2>&1 &
echo $! >"$PIDS_DIR/etcd.pid"
wait_for etcd 30 "$(cat "$PIDS_DIR/etcd.pid")" curl -fsS "http://127.0.0.1:$ETCD_PORT/health"
log "etcd on 127.0.0.1:$ETCD_PORT"

# --- API server certificates, keys and tokens -------------------------------
PKI="$WORK/pki"
mkdir -p "$PKI"
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=apiserver-suite-ca" \
  -keyout "$PKI/ca.key" -out "$PKI/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=kube-apiserver" \
  -keyout "$PKI/apiserver.key" -out "$PKI/apiserver.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n' >"$PKI/apiserver.ext"
openssl x509 -req -sha256 -days 2 -in "$PKI/apiserver.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
  -extfile "$PKI/apiserver.ext" -out "$PKI/apiserver.crt" 2>/dev/null
openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null

rand_token() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
ADMIN_TOKEN="$(rand_token)"; MIGRATOR_TOKEN="$(rand_token)"; USER_TOKEN="$(rand_token)"
# The controller's service account, as the API server would name it (bound by the manifests' RBAC).
CONTROLLER_TOKEN="$(rand_token)"
# token,user,uid,"group1,group2"
cat >"$PKI/tokens.csv" <<TOKENS
$ADMIN_TOKEN,admin,uid-admin,"system:masters"
$MIGRATOR_TOKEN,image-migrator,uid-image-migrator,"image-migrators"
$USER_TOKEN,jane,uid-jane,"developers"
$CONTROLLER_TOKEN,system:serviceaccount:image-admission:image-admission-controller,uid-controller,"system:serviceaccounts,system:serviceaccounts:image-admission"
TOKENS

# Image writes at Request level (the request body and the webhooks' annotations); nothing else.
cat >"$WORK/audit-policy.yaml" <<'POLICY'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Request
    verbs: ["create", "update", "patch", "delete", "deletecollection"]
    resources:
      - group: image.openshift.io
        resources: ["images"]
  - level: None
POLICY
AUDIT_LOG="$WORK/audit.log"

# --- kube-apiserver -----------------------------------------------------------
APISERVER_PORT="$(free_port)"
"$KUBE_APISERVER" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" --insecure-port=0 \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" --client-ca-file="$PKI/ca.crt" \
  --cert-dir="$WORK/apiserver-certs" \
  --authorization-mode=RBAC --token-auth-file="$PKI/tokens.csv" --anonymous-auth=false \
  --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$PKI/sa.pub" \
  --service-account-signing-key-file="$PKI/sa.key" \
  --service-cluster-ip-range=10.0.0.0/24 --endpoint-reconciler-type=none \
  --enable-admission-plugins=NamespaceLifecycle,ServiceAccount,MutatingAdmissionWebhook,ValidatingAdmissionWebhook \
  --audit-policy-file="$WORK/audit-policy.yaml" --audit-log-path="$AUDIT_LOG" --audit-log-format=json \
  --profiling=false --logtostderr=true --v=1 \
  >"$WORK/apiserver.log" 2>&1 &
echo $! >"$PIDS_DIR/apiserver.pid"
readyz() { curl -fsS --cacert "$PKI/ca.crt" -H "Authorization: Bearer $ADMIN_TOKEN" "https://127.0.0.1:$APISERVER_PORT/readyz"; }
wait_for kube-apiserver 120 "$(cat "$PIDS_DIR/apiserver.pid")" readyz
log "kube-apiserver on 127.0.0.1:$APISERVER_PORT ($("$KUBE_APISERVER" --version))"

# --- kubeconfig: one context per user -----------------------------------------
export KUBECONFIG="$WORK/kubeconfig"
k() { "$KUBECTL" "$@" >/dev/null; }
k config set-cluster suite --server="https://127.0.0.1:$APISERVER_PORT" --certificate-authority="$PKI/ca.crt" --embed-certs=true
for user in admin:$ADMIN_TOKEN image-migrator:$MIGRATOR_TOKEN jane:$USER_TOKEN; do
  k config set-credentials "${user%%:*}" --token="${user#*:}"
  k config set-context "${user%%:*}" --cluster=suite --user="${user%%:*}"
done
k config set-credentials controller --token="$CONTROLLER_TOKEN"
k config set-context controller --cluster=suite --user=controller
k config use-context admin

# --- the Image CustomResourceDefinition and who may write Images ---------------
"$KUBECTL" apply -f "$ROOT/manifests/crd/images.image.openshift.io.yaml" >&2
"$KUBECTL" wait --for=condition=Established --timeout=60s crd/images.image.openshift.io >&2
"$KUBECTL" apply -f "$HERE/rbac.yaml" >&2
# The discovery of the new group may lag its Established condition.
wait_for "images discovery" 30 "$(cat "$PIDS_DIR/apiserver.pid")" "$KUBECTL" get images.image.openshift.io

export APISERVER_SUITE_WORK="$WORK" APISERVER_SUITE_PIDS="$PIDS_DIR" APISERVER_SUITE_AUDIT_LOG="$AUDIT_LOG"
export APISERVER_SUITE_KUBECTL="$KUBECTL" APISERVER_SUITE_SERVER="https://127.0.0.1:$APISERVER_PORT"
# For test/apiserver/controller.test.ts: etcd (to compact it) and the binary (to start a second API
# server on the same etcd without a watch cache).
export APISERVER_SUITE_ETCD="http://127.0.0.1:$ETCD_PORT" APISERVER_SUITE_KUBE_APISERVER="$KUBE_APISERVER"
log "running the suite"
# In the background and waited for, so that a TERM or INT to this script runs the trap at once
# (bash defers traps while a foreground child runs); the trap stops vitest with the rest.
setsid node node_modules/vitest/vitest.mjs run --config vitest.apiserver.config.ts "$@" &
echo $! >"$PIDS_DIR/vitest.pid"
wait "$(cat "$PIDS_DIR/vitest.pid")"
