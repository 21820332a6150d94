#!/usr/bin/env bash
# A local Kubernetes control plane on loopback, built from Go modules
# (scripts/build-cluster.sh): etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok, whose fake node runs
# every pod as Running and Ready without containers.
#
#   bash scripts/cluster.sh [--name NAME] up       start (safe to re-run: a running cluster is left alone)
#   bash scripts/cluster.sh [--name NAME] down     stop every process it started, by pid
#   bash scripts/cluster.sh [--name NAME] status   what runs, and whether the API server is ready
#   bash scripts/cluster.sh [--name NAME] env      print `export KUBECONFIG=...` for this cluster
#   bash scripts/cluster.sh [--name NAME] hold NS/APP...  new pods of app APP (label app) in namespace NS never become Ready
#   bash scripts/cluster.sh [--name NAME] release       every pod becomes Ready again
#   bash scripts/cluster.sh [--name NAME] reset    down, then delete its data (etcd, certificates, kubeconfig)
#
# NAME (default "local") gives a cluster of its own: its folder
# .cluster/NAME (or $CLUSTER_DIR/NAME), its own free loopback ports, and the
# kubeconfig context titan-NAME in .cluster/NAME/kubeconfig. Two names run
# side by side.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="${ENGINE_DIR:-$repo/.engine}/bin"
name=local
if [ "${1:-}" = "--name" ]; then
  name="${2:?--name needs a value}"
  shift 2
fi
[[ "$name" =~ ^[a-z0-9][a-z0-9-]{0,30}$ ]] || { echo "cluster.sh: --name: found \"$name\"; allowed: lower-case letters, digits and '-'" >&2; exit 2; }
cmd="${1:-status}"
[ $# -gt 0 ] && shift
dir="${CLUSTER_DIR:-$repo/.cluster}/$name"
context="titan-$name"
components=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

say() { printf '[cluster %s] %s\n' "$name" "$*"; }
die() { printf '[cluster %s] %s\n' "$name" "$*" >&2; exit 1; }

need_binaries() {
  local b missing=()
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok; do
    [ -x "$bin/$b" ] || missing+=("$b")
  done
  [ ${#missing[@]} -eq 0 ] || die "missing in $bin: ${missing[*]}; run: bash scripts/build-cluster.sh (or bash scripts/setup.sh)"
  command -v openssl >/dev/null || die "openssl is not installed"
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# The pid of a component if it is running (and is what the pid file says).
running_pid() {
  local f="$dir/pids/$1.pid" pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$1" || return 1
  echo "$pid"
}

start() {
  local comp="$1"; shift
  mkdir -p "$dir/pids" "$dir/logs"
  # A session of its own, so that a terminal's signals do not reach it; the
  # lock (fd 9) stays with this script.
  setsid "$@" >>"$dir/logs/$comp.log" 2>&1 </dev/null 9>&- &
  echo $! >"$dir/pids/$comp.pid"
}

stop() {
  local comp="$1" pid i
  pid=$(running_pid "$comp") || { rm -f "$dir/pids/$comp.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$dir/pids/$comp.pid"
}

# wait_for WHAT SECONDS COMMAND...: polls COMMAND until it succeeds.
wait_for() {
  local what="$1" seconds="$2" i; shift 2
  for i in $(seq 1 $((seconds * 5))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  die "$what not ready after ${seconds}s; logs in $dir/logs"
}

certificates() {
  [ -f "$dir/pki/sa.pub" ] && return 0
  mkdir -p "$dir/pki"
  (
    cd "$dir/pki"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -keyout ca.key -out ca.crt -subj "/CN=titan-$name-ca" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' >san.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile san.ext -out apiserver.crt 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    # One bearer token, group system:masters: this cluster's only user.
    echo "$(openssl rand -hex 24),titan-admin,titan-admin,system:masters" >tokens.csv
    chmod 600 ./*.key tokens.csv
  )
}

ports() {
  if [ ! -f "$dir/ports.env" ]; then
    mkdir -p "$dir"
    printf 'ETCD_PORT=%s\nETCD_PEER_PORT=%s\nAPI_PORT=%s\n' "$(free_port)" "$(free_port)" "$(free_port)" >"$dir/ports.env"
  fi
  # shellcheck disable=SC1091
  . "$dir/ports.env"
}

kubeconfig() {
  local token
  token=$(cut -d, -f1 "$dir/pki/tokens.csv")
  cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $context
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 "$dir/pki/ca.crt")
users:
- name: titan-admin
  user:
    token: $token
contexts:
- name: $context
  context:
    cluster: $context
    user: titan-admin
current-context: $context
EOF
  chmod 600 "$dir/kubeconfig"
}

kubectl_() { "$bin/kubectl" --kubeconfig "$dir/kubeconfig" "$@"; }

# The Stage objects kwok follows, with the held apps' pods kept out of Ready.
stages() {
  local hold="" app
  # An item of pod-ready's matchExpressions (6 spaces, like its siblings).
  for app in $(cat "$dir/hold" 2>/dev/null); do hold+="          - '$app'"$'\n'; done
  if [ -n "$hold" ]; then
    sed -e "/# HOLD/{r /dev/stdin" -e "d}" "$repo/tools/cluster/stages.yaml" <<EOF >"$dir/stages.yaml"
      - key: '.metadata.namespace + "/" + .metadata.labels.app'
        operator: 'NotIn'
        values:
$hold
EOF
  else
    grep -v '# HOLD' "$repo/tools/cluster/stages.yaml" >"$dir/stages.yaml"
  fi
  # kwok would drop a stage it cannot read (then no pod ever becomes Ready):
  # check the file parses and pod-ready holds exactly the held apps.
  node -e '
    const [repo, file, held] = process.argv.slice(1);
    const { parseAllDocuments } = require(repo + "/node_modules/yaml");
    const docs = parseAllDocuments(require("fs").readFileSync(file, "utf8"));
    for (const d of docs) if (d.errors.length > 0) { console.error(file + ": " + d.errors[0].message.split("\n")[0]); process.exit(1); }
    const ready = docs.map((d) => d.toJS()).find((s) => s && s.metadata && s.metadata.name === "pod-ready");
    const exprs = (ready && ready.spec.selector.matchExpressions) || [];
    const hold = exprs.find((e) => e.operator === "NotIn" && String(e.key).includes("labels.app"));
    const want = held.split(/\s+/).filter(Boolean).sort().join(" ");
    const got = hold ? [...hold.values].sort().join(" ") : "";
    if (got !== want) { console.error(file + ": pod-ready holds [" + got + "], expected [" + want + "]"); process.exit(1); }
  ' "$repo" "$dir/stages.yaml" "$(cat "$dir/hold" 2>/dev/null | tr '\n' ' ')" || die "the kwok stages in $dir/stages.yaml are not what they should be"
}

start_kwok() {
  stages
  start kwok "$bin/kwok" --kubeconfig "$dir/kubeconfig" --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake --config "$dir/stages.yaml" \
    --cidr 10.244.0.0/16 --node-ip 127.0.0.1
}

# The namespace the local stack deploys to (Pulumi.local.yaml).
namespace() { kubectl_ get namespace titan >/dev/null 2>&1 || kubectl_ create namespace titan >/dev/null; }

ready() { kubectl_ get --raw /readyz >/dev/null 2>&1; }
node_ready() { [ "$(kubectl_ get node kwok-node-0 -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; }

up() {
  need_binaries
  local all=1 comp
  for comp in "${components[@]}"; do running_pid "$comp" >/dev/null || all=0; done
  if [ "$all" = 1 ] && [ -f "$dir/kubeconfig" ] && ready && node_ready; then
    namespace
    say "already running; export KUBECONFIG=$dir/kubeconfig"
    return 0
  fi
  for comp in "${components[@]}"; do stop "$comp"; done
  mkdir -p "$dir"
  certificates
  ports
  kubeconfig
  local pki="$dir/pki" started=$SECONDS etcd_version
  # etcd cannot read every older data folder (3.6 refuses 3.4's): say so
  # instead of starting a server that panics.
  # (awk reads every line: with head, etcd could die of SIGPIPE under pipefail)
  etcd_version=$("$bin/etcd" --version | awk 'NR == 1 {print $3}')
  if [ -d "$dir/etcd" ] && [ "$(cat "$dir/etcd-version" 2>/dev/null)" != "$etcd_version" ]; then
    die "the data in $dir/etcd was written by etcd $(cat "$dir/etcd-version" 2>/dev/null || echo "of another version"), not $etcd_version; start afresh with: bash scripts/cluster.sh --name $name reset"
  fi
  echo "$etcd_version" >"$dir/etcd-version"
  start etcd "$bin/etcd" --name "titan-$name" --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "titan-$name=http://127.0.0.1:$ETCD_PEER_PORT"
  wait_for etcd 30 node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "http://127.0.0.1:$ETCD_PORT/health"
  start kube-apiserver "$bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" --client-ca-file "$pki/ca.crt" \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc --token-auth-file "$pki/tokens.csv" \
    --authorization-mode RBAC --service-cluster-ip-range 10.96.0.0/16 --endpoint-reconciler-type none
  wait_for kube-apiserver 90 ready
  start kube-controller-manager "$bin/kube-controller-manager" --kubeconfig "$dir/kubeconfig" \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" --leader-elect=false \
    --controllers '*,-serviceaccount-token' --secure-port 0
  start kube-scheduler "$bin/kube-scheduler" --kubeconfig "$dir/kubeconfig" --leader-elect=false --secure-port 0
  start_kwok
  kubectl_ apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-0
  annotations:
    kwok.x-k8s.io/node: fake
  labels:
    type: kwok
    kubernetes.io/hostname: kwok-node-0
spec: {}
EOF
  wait_for "node kwok-node-0" 60 node_ready
  namespace
  for comp in "${components[@]}"; do running_pid "$comp" >/dev/null || die "$comp exited; see $dir/logs/$comp.log"; done
  say "up in $((SECONDS - started))s: https://127.0.0.1:$API_PORT, context $context"
  say "export KUBECONFIG=$dir/kubeconfig"
}

down() {
  local comp i
  for ((i = ${#components[@]} - 1; i >= 0; i--)); do stop "${components[$i]}"; done
  say "stopped"
}

status() {
  local comp pid rc=0
  for comp in "${components[@]}"; do
    if pid=$(running_pid "$comp"); then say "$comp: running (pid $pid)"; else say "$comp: stopped"; rc=1; fi
  done
  if [ -f "$dir/kubeconfig" ] && ready; then
    say "API server ready at $(grep -m1 server: "$dir/kubeconfig" | awk '{print $2}'); node kwok-node-0 Ready: $(node_ready && echo yes || echo no)"
    say "held apps: $(cat "$dir/hold" 2>/dev/null | tr '\n' ' ')"
  else
    say "API server not ready"
    rc=1
  fi
  return $rc
}

# One command at a time per cluster (two test workers may both ask for up).
case "$cmd" in
  up | down | hold | release | reset)
    mkdir -p "$(dirname "$dir")"
    exec 9>"$dir.lock"
    flock 9
    ;;
esac

case "$cmd" in
  up) up ;;
  down) down ;;
  status) status ;;
  env) echo "export KUBECONFIG=$dir/kubeconfig" ;;
  hold | release)
    running_pid kube-apiserver >/dev/null || die "not running; run: bash scripts/cluster.sh --name $name up"
    if [ "$cmd" = hold ]; then
      [ $# -gt 0 ] || die "hold: name at least one NAMESPACE/APP (APP is the pod label app=...)"
      for held in "$@"; do [[ "$held" == */* ]] || die "hold: found \"$held\"; allowed: NAMESPACE/APP, e.g. titan/titan-sentinel"; done
      printf '%s\n' "$@" >>"$dir/hold"
    else
      rm -f "$dir/hold"
    fi
    stop kwok
    start_kwok
    say "held apps: $(sort -u "$dir/hold" 2>/dev/null | tr '\n' ' ')"
    ;;
  reset)
    down
    rm -rf "$dir"
    say "data deleted"
    ;;
  *) echo "usage: bash scripts/cluster.sh [--name NAME] up|down|status|env|hold NS/APP...|release|reset" >&2; exit 2 ;;
esac
