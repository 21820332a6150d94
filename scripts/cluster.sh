#!/usr/bin/env bash
# A local Kubernetes control plane on loopback, built from Go modules
# (scripts/build-cluster.sh): etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok, whose fake node runs
# every pod as Running and Ready without containers.
#
# With --real-node, up also starts a real node beside kwok's: containerd
# (Debian's, with its CRI plugin, runc and the CNI plugins of
# containernetworking-plugins) and the kubelet of the same k8s.io/kubernetes
# version, registered as node real-node-0 (label type=real) with the taint
# titan.local/real-node=true:NoSchedule, so that only pods that tolerate it
# (and select it) run there, as real containers of the images
# scripts/build-images.sh builds here (titan.local/pause, busybox, node).
# Pod IPs are on a bridge of the host (10.88.K.0/24), reachable from it.
#
#   bash scripts/cluster.sh [--name NAME] [--real-node] up
#                                                  start (safe to re-run: a running cluster is left alone)
#   bash scripts/cluster.sh [--name NAME] down     stop every process it started, by pid
#   bash scripts/cluster.sh [--name NAME] status   what runs, and whether the API server is ready
#   bash scripts/cluster.sh [--name NAME] env      print `export KUBECONFIG=...` for this cluster
#   bash scripts/cluster.sh [--name NAME] hold NS/APP...  new pods of app APP (label app) in namespace NS never become Ready
#   bash scripts/cluster.sh [--name NAME] release       every pod becomes Ready again
#   bash scripts/cluster.sh [--name NAME] reset    down, then delete its data (etcd, certificates, kubeconfig)
#
# down stops the real node too when it runs (its pods' containers first).
#
# NAME (default "local") gives a cluster of its own: its folder
# .cluster/NAME (or $CLUSTER_DIR/NAME), its own free loopback ports, and the
# kubeconfig context titan-NAME in .cluster/NAME/kubeconfig. Two names run
# side by side.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="${ENGINE_DIR:-$repo/.engine}/bin"
name=local
real_node=0
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name="${2:?--name needs a value}"; shift 2 ;;
    --real-node) real_node=1; shift ;;
    *) break ;;
  esac
done
[[ "$name" =~ ^[a-z0-9][a-z0-9-]{0,30}$ ]] || { echo "cluster.sh: --name: found \"$name\"; allowed: lower-case letters, digits and '-'" >&2; exit 2; }
cmd="${1:-status}"
[ $# -gt 0 ] && shift
dir="${CLUSTER_DIR:-$repo/.cluster}/$name"
context="titan-$name"
components=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
# The real node's processes (--real-node), started after the control plane.
node_components=(containerd kubelet)
node_name=real-node-0
node_taint=titan.local/real-node

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

# ---- The real node (--real-node) ----------------------------------------
# Its files live in $dir/node (containerd's root, state and socket, the
# kubelet's configuration, the CNI configuration and IP allocations) and
# $dir/kubelet (the kubelet's root: pod volumes); its cgroups under
# /titan-NAME; its pods on the bridge titanK (10.88.K.0/24, K in node.env).
nd="$dir/node"
sock="$nd/containerd.sock"

need_node() {
  local missing=() c
  [ "$(id -u)" = 0 ] || die "--real-node needs root: containerd and the kubelet mount, make cgroups and network namespaces"
  [ -x "$bin/kubelet" ] || missing+=("$bin/kubelet (bash scripts/build-cluster.sh)")
  for c in containerd ctr containerd-shim-runc-v2 runc ip findmnt; do command -v "$c" >/dev/null || missing+=("$c"); done
  for c in bridge host-local loopback; do [ -x "/usr/lib/cni/$c" ] || missing+=("/usr/lib/cni/$c"); done
  [ ${#missing[@]} -eq 0 ] || die "the real node needs: ${missing[*]}; Debian packages: containerd runc containernetworking-plugins busybox-static"
}

ctr_() { ctr --address "$sock" -n k8s.io "$@"; }

# The kernel settings the kubelet sets at start (protectKernelDefaults false:
# kernel.panic 10, panic_on_oops 1, overcommit_memory 1, ...): saved before
# it starts, put back when it stops, so the host is left as it was.
node_sysctls=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes)
save_sysctls() {
  local k
  [ -f "$nd/sysctl.saved" ] && return 0
  for k in "${node_sysctls[@]}"; do echo "$k=$(sysctl -n "$k")"; done >"$nd/sysctl.saved.tmp"
  mv "$nd/sysctl.saved.tmp" "$nd/sysctl.saved"
}
restore_sysctls() {
  local kv
  [ -f "$nd/sysctl.saved" ] || return 0
  while read -r kv; do sysctl -q -w "$kv" || true; done <"$nd/sysctl.saved"
  rm -f "$nd/sysctl.saved"
}

node_env() {
  if [ ! -f "$dir/node.env" ]; then
    local k
    # A /24 of 10.88.0.0/16 that no route and no other cluster's node uses.
    local routes taken
    routes=$(ip -4 route)
    taken=$(cat "$(dirname "$dir")"/*/node.env 2>/dev/null || true)
    for k in $(seq 1 254); do
      grep -q "^10\.88\.$k\." <<<"$routes" && continue
      grep -qx "POD_NET=$k" <<<"$taken" && continue
      break
    done
    printf 'KUBELET_PORT=%s\nKUBELET_HEALTHZ_PORT=%s\nPOD_NET=%s\n' "$(free_port)" "$(free_port)" "$k" >"$dir/node.env"
  fi
  # shellcheck disable=SC1091
  . "$dir/node.env"
  bridge="titan$POD_NET"
  subnet="10.88.$POD_NET.0/24"
}

# The node's address: the kubelet refuses a loopback one. The address of the
# default route's interface, else the first global IPv4 address.
node_ip() {
  local dev ip=""
  dev=$(ip -4 route show default | awk '{print $5; exit}')
  [ -n "$dev" ] && ip=$(ip -4 -o addr show dev "$dev" scope global | awk '{sub("/.*", "", $4); print $4; exit}')
  [ -n "$ip" ] || ip=$(ip -4 -o addr show scope global | awk '$2 !~ /^titan/ {sub("/.*", "", $4); print $4; exit}')
  [ -n "$ip" ] || die "the real node needs a non-loopback IPv4 address (the kubelet refuses 127.0.0.1)"
  echo "$ip"
}

# sign_client NAME CN O: a client certificate signed by the cluster's CA.
sign_client() {
  [ -f "$dir/pki/$1.crt" ] && return 0
  (
    cd "$dir/pki"
    openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/O=$3/CN=$2" 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile client.ext -out "$1.crt" 2>/dev/null
    chmod 600 "$1.key"
  )
}

# The cgroup the kubelet puts its pods under (cgroupRoot), in every
# hierarchy: the kubelet refuses a root that does not exist.
node_cgroups() {
  local h
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    mkdir -p "/sys/fs/cgroup/titan-$name"
    return 0
  fi
  for h in /sys/fs/cgroup/*/; do
    [ "$h" = /sys/fs/cgroup/unified/ ] && continue
    mkdir -p "$h/titan-$name"
  done
  # A new cpuset has no CPUs and no memory nodes until given its parent's.
  if [ -d /sys/fs/cgroup/cpuset ]; then
    cat /sys/fs/cgroup/cpuset/cpuset.cpus >"/sys/fs/cgroup/cpuset/titan-$name/cpuset.cpus"
    cat /sys/fs/cgroup/cpuset/cpuset.mems >"/sys/fs/cgroup/cpuset/titan-$name/cpuset.mems"
  fi
}

node_config() {
  local ip="$1"
  mkdir -p "$nd/net.d" "$nd/pod-logs" "$dir/kubelet"
  cat >"$nd/containerd.toml" <<EOF
version = 2
root = "$nd/containerd/root"
state = "$nd/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = "$sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$nd/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  # Built by scripts/build-images.sh and imported: never pulled.
  sandbox_image = "titan.local/pause:1"
  netns_mounts_under_state_dir = true
  # Never below containerd's own OOM score: the kubelet asks -998 for a
  # sandbox, which needs CAP_SYS_RESOURCE, and a machine of this kind does
  # not grant it even to root (runc: "failed to update
  # /proc/self/oom_score_adj: Permission denied").
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        Root = "$nd/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$nd/net.d"
EOF
  # A bridge on the host, the gateway of the pods: their IPs answer from here.
  cat >"$nd/net.d/10-titan.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "titan-$name",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$bridge",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "$subnet" }]], "routes": [{ "dst": "0.0.0.0/0" }], "dataDir": "$nd/cni-ipam" }
    }
  ]
}
EOF
  cat >"$nd/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $context
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority: $dir/pki/ca.crt
users:
- name: $node_name
  user:
    client-certificate: $dir/pki/$node_name.crt
    client-key: $dir/pki/$node_name.key
contexts:
- name: $node_name
  context:
    cluster: $context
    user: $node_name
current-context: $node_name
EOF
  chmod 600 "$nd/kubeconfig"
  cat >"$nd/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $ip
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
# The API server's client certificate (CA-signed, system:masters) for logs
# and exec; everything else asks the API server (webhook).
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $dir/pki/ca.crt }
authorization: { mode: Webhook }
containerRuntimeEndpoint: unix://$sock
# This machine kind has cgroup v1 (kubelet 1.34 still runs on it when
# failCgroupV1 is false) and no systemd: the cgroupfs driver, under a root
# of this cluster's own.
cgroupDriver: cgroupfs
cgroupRoot: /titan-$name
failCgroupV1: false
# No swap here; on a laptop with swap the kubelet runs, and pods get none
# (memorySwap.swapBehavior NoSwap, the default).
failSwapOn: false
registerWithTaints:
- { key: $node_taint, value: "true", effect: NoSchedule }
podLogsDir: $nd/pod-logs
resolvConf: /etc/resolv.conf
# Nothing can be pulled back: never collect the imported images, and do not
# evict on a busy developer disk.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: { memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%" }
maxPods: 50
EOF
}

node_ready_real() { [ "$(kubectl_ get node "$node_name" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; }

node_up() {
  local c all=1 started=$SECONDS ip
  for c in "${node_components[@]}"; do running_pid "$c" >/dev/null || all=0; done
  if [ "$all" = 1 ] && node_ready_real; then
    touch "$dir/node-up"
    say "real node $node_name: already running"
    return 0
  fi
  node_down
  node_env
  ip=$(node_ip)
  sign_client "$node_name" "system:node:$node_name" system:nodes
  node_cgroups
  node_config "$ip"
  touch "$dir/node-up"
  start containerd containerd --config "$nd/containerd.toml"
  wait_for containerd 30 ctr --address "$sock" version
  ENGINE_DIR="$(dirname "$bin")" bash "$repo/scripts/build-images.sh" import "$sock" | sed "s/^/[cluster $name] /"
  save_sysctls
  start kubelet "$bin/kubelet" --config "$nd/kubelet.yaml" --kubeconfig "$nd/kubeconfig" --root-dir "$dir/kubelet" \
    --cert-dir "$nd/pki" --hostname-override "$node_name" --node-ip "$ip" \
    --node-labels "type=real,$node_taint=true" --v=2
  wait_for "node $node_name" 120 node_ready_real
  for c in "${node_components[@]}"; do running_pid "$c" >/dev/null || die "$c exited; see $dir/logs/$c.log"; done
  say "real node $node_name Ready in $((SECONDS - started))s (IP $ip, pods on $bridge $subnet, taint $node_taint=true:NoSchedule)"
}

# Stops the real node and leaves nothing behind: its pods are deleted
# through the API server (the kubelet stops their containers and frees their
# network), what is left is killed through containerd, then the kubelet and
# containerd stop, and their mounts, bridge and cgroups go.
node_down() {
  local pid m h
  [ -f "$dir/node.env" ] || { rm -f "$dir/node-up"; return 0; }
  node_env
  if running_pid kubelet >/dev/null && [ -f "$dir/kubeconfig" ] && ready; then
    # When the cluster stops: no new pod is bound while the node's pods go.
    [ "${1:-}" = final ] && stop kube-scheduler
    kubectl_ delete pods --all-namespaces --field-selector "spec.nodeName=$node_name" --grace-period=2 --timeout=60s >/dev/null 2>&1 ||
      say "real node: its pods did not all go through the kubelet; stopping what is left through containerd"
  fi
  stop kubelet
  restore_sysctls
  if running_pid containerd >/dev/null; then
    for m in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s SIGKILL "$m" >/dev/null 2>&1 || true; done
    sleep 0.5
    for m in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks rm -f "$m" >/dev/null 2>&1 || true; done
    for m in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers rm "$m" >/dev/null 2>&1 || true; done
  fi
  stop containerd
  # A shim of this containerd that outlived it (found by its socket's path).
  for pid in $(pgrep -f -- "-address $sock( |$)" || true); do kill -KILL "$pid" 2>/dev/null || true; done
  # Pod volumes, sandboxes' network namespaces, containers' root file systems.
  for m in $(findmnt -rn -o TARGET | awk -v d="$dir/" 'index($0, d) == 1' | sort -r); do umount -l "$m" 2>/dev/null || true; done
  ip link show "$bridge" >/dev/null 2>&1 && ip link del "$bridge" 2>/dev/null || true
  for h in /sys/fs/cgroup/*/"titan-$name" /sys/fs/cgroup/"titan-$name"; do
    [ -d "$h" ] && find "$h" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  if [ -f "$dir/kubeconfig" ] && ready; then kubectl_ delete node "$node_name" --ignore-not-found >/dev/null 2>&1 || true; fi
  rm -f "$dir/node-up"
}

up() {
  need_binaries
  [ "$real_node" = 1 ] && need_node
  local all=1 comp
  for comp in "${components[@]}"; do running_pid "$comp" >/dev/null || all=0; done
  if [ "$all" = 1 ] && [ -f "$dir/kubeconfig" ] && ready && node_ready; then
    namespace
    if [ "$real_node" = 1 ]; then
      ports
      node_up
    fi
    say "already running; export KUBECONFIG=$dir/kubeconfig"
    return 0
  fi
  node_down
  for comp in "${components[@]}"; do stop "$comp"; done
  mkdir -p "$dir"
  certificates
  # The API server's client certificate for the kubelets (logs, exec).
  sign_client apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
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
    --authorization-mode Node,RBAC --service-cluster-ip-range 10.96.0.0/16 --endpoint-reconciler-type none \
    --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP
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
  [ "$real_node" = 1 ] && node_up
  say "up in $((SECONDS - started))s: https://127.0.0.1:$API_PORT, context $context"
  say "export KUBECONFIG=$dir/kubeconfig"
}

down() {
  local comp i
  node_down final
  for ((i = ${#components[@]} - 1; i >= 0; i--)); do stop "${components[$i]}"; done
  say "stopped"
}

status() {
  local comp pid rc=0
  for comp in "${components[@]}"; do
    if pid=$(running_pid "$comp"); then say "$comp: running (pid $pid)"; else say "$comp: stopped"; rc=1; fi
  done
  # The real node, when up --real-node started it.
  if [ -f "$dir/node-up" ]; then
    for comp in "${node_components[@]}"; do
      if pid=$(running_pid "$comp"); then say "$comp: running (pid $pid)"; else say "$comp: stopped"; rc=1; fi
    done
  fi
  if [ -f "$dir/kubeconfig" ] && ready; then
    say "API server ready at $(grep -m1 server: "$dir/kubeconfig" | awk '{print $2}'); node kwok-node-0 Ready: $(node_ready && echo yes || echo no)"
    say "held apps: $(cat "$dir/hold" 2>/dev/null | tr '\n' ' ')"
    [ -f "$dir/node-up" ] && say "node $node_name Ready: $(node_ready_real && echo yes || echo no)"
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
  *) echo "usage: bash scripts/cluster.sh [--name NAME] [--real-node] up|down|status|env|hold NS/APP...|release|reset" >&2; exit 2 ;;
esac
