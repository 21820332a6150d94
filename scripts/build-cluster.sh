#!/usr/bin/env bash
# Builds a local Kubernetes control plane from Go modules (no downloads but
# the Go module proxy) into .engine/bin, for scripts/cluster.sh:
#
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
#       k8s.io/kubernetes v1.34.4             (tools/cluster/kubernetes)
#   kubelet  the real node (cluster.sh --real-node), same module and version,
#       a module of its own                 (tools/cluster/kubelet)
#   kwok  fake nodes and pod status           (tools/cluster/kwok)
#       sigs.k8s.io/kwok v0.8.0
#   etcd  go.etcd.io/etcd/server/v3 v3.6.16   (tools/cluster/etcd)
# Each group has a stamp (.engine/stamps/NAME): versions, the Go version and
# a hash of its module's files. A group whose stamp matches is not rebuilt.
# About 11 minutes cold on 2 cores; seconds when up to date.
#
# Usage: scripts/build-cluster.sh [--force]
# Environment: ENGINE_DIR (default <repo>/.engine), ENGINE_GO_JOBS (default 2).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/tools/cluster"
ENGINE_DIR="${ENGINE_DIR:-$ROOT/.engine}"
BIN="$ENGINE_DIR/bin"
STAMPS="$ENGINE_DIR/stamps"
JOBS="${ENGINE_GO_JOBS:-2}"
FORCE="${ENGINE_FORCE:-0}"
KUBERNETES_VERSION="v1.34.4"
KWOK_VERSION="v0.8.0"
ETCD_VERSION="v3.6.16"

for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "build-cluster: unknown argument: $arg" >&2; exit 2 ;;
  esac
done
command -v go >/dev/null || { echo "build-cluster: go is not on PATH" >&2; exit 1; }
mkdir -p "$BIN" "$STAMPS"
log() { printf '[build-cluster] %s\n' "$*"; }
# shellcheck source=lib/gobuild.sh
. "$ROOT/scripts/lib/gobuild.sh"

kube_version_flags() {
  local pkg=k8s.io/component-base/version
  echo "-X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=34 -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
}

build_kubernetes() {
  # One go build for the four commands: they share most of their packages.
  (cd "$TOOLS/kubernetes" && go build -p "$JOBS" -trimpath -ldflags "-s -w $(kube_version_flags)" -o "$BIN/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
}

build_kubelet() {
  go_build "$TOOLS/kubelet" "$BIN/kubelet" k8s.io/kubernetes/cmd/kubelet "$(kube_version_flags)"
}

build_kwok() {
  go_build "$TOOLS/kwok" "$BIN/kwok" sigs.k8s.io/kwok/cmd/kwok
}

build_etcd() {
  go_build "$TOOLS/etcd" "$BIN/etcd" .
}

go_version="$(go env GOVERSION)"
total_start=$SECONDS
OUTPUTS="kube-apiserver kube-controller-manager kube-scheduler kubectl" \
  stamped kubernetes "$KUBERNETES_VERSION $go_version $(inputs_hash "$TOOLS/kubernetes")" build_kubernetes
# A group of its own: adding the kubelet leaves the control plane's stamp as it was.
stamped kubelet "$KUBERNETES_VERSION $go_version $(inputs_hash "$TOOLS/kubelet")" build_kubelet
stamped kwok "$KWOK_VERSION $go_version $(inputs_hash "$TOOLS/kwok")" build_kwok
stamped etcd "$ETCD_VERSION $go_version $(inputs_hash "$TOOLS/etcd")" build_etcd
log "done in $((SECONDS - total_start))s; binaries in $BIN"
