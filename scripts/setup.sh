#!/usr/bin/env bash
# Everything a fresh machine needs before `npm run dev` or `npm test`:
# Debian's redis-server and nats-server, the npm packages (project and policy
# pack), the Pulumi engine built from Go modules, and actionlint. Safe to
# re-run: each part is skipped when already up to date.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

# Real servers the tests log in to (test/servers.test.ts), openssl for
# the local control plane's certificates (scripts/cluster.sh), and the real
# node's runtime (cluster.sh --real-node): containerd with its CRI plugin,
# runc, the CNI plugins, and busybox-static and gcc for the images built here.
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v nats-server >/dev/null || missing+=(nats-server)
command -v openssl >/dev/null || missing+=(openssl)
real_node=0
[ "$(uname -s)" = Linux ] && command -v dpkg-query >/dev/null && real_node=1
if [ $real_node = 1 ]; then
  command -v containerd >/dev/null || missing+=(containerd)
  command -v runc >/dev/null || missing+=(runc)
  [ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || missing+=(busybox-static)
  # gcc -static for the pause image (libc.a is in libc6-dev).
  command -v gcc >/dev/null || missing+=(gcc)
  dpkg-query -W -f='${Status}' libc6-dev 2>/dev/null | grep -q 'ok installed' || missing+=(libc6-dev)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: please install ${missing[*]} (Debian packages); the server tests need them" >&2
    exit 1
  fi
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi

# The policy pack is a package of its own (@pulumi/policy).
if [ ! -f policy/node_modules/.package-lock.json ] || [ policy/package-lock.json -nt policy/node_modules/.package-lock.json ]; then
  echo "setup: npm ci (policy pack)"
  npm ci --prefix policy --no-audit --no-fund
fi

bash scripts/build-engine.sh
# The local Kubernetes control plane (etcd, kube-apiserver,
# controller-manager, scheduler, kubectl, kwok) for the live suites and the
# local stack, and the real node's kubelet.
bash scripts/build-cluster.sh
# The real node's images (pause, busybox, node), from this machine's files.
[ $real_node = 0 ] || bash scripts/build-images.sh
# actionlint, for the workflow lint test.
bash tools/actionlint/build.sh
