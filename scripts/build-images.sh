#!/usr/bin/env bash
# Builds the container images of the real node (scripts/cluster.sh
# --real-node) here, from nothing remote: no image is pulled from a
# registry, every file comes from this machine's Debian packages or the
# repository.
#
#   titan.local/pause:1    the pod sandbox: tools/images/pause.c, gcc -static
#   titan.local/busybox:1  Debian's busybox-static (/bin/busybox and a link per applet)
#   titan.local/node:1     the busybox layer + /usr/bin/node and the shared
#                          libraries ldd finds for it
#
# Each image is an OCI image layout packed in one tar (.engine/images/NAME.oci.tar),
# written by this script itself with tar and sha256sum: no packing tool to
# install, and the same inputs give the same bytes (sorted entries, owner 0,
# mtime 0, uncompressed layers), so an image's digest changes only when its
# files do. Each image has a stamp (.engine/stamps/image-NAME: a hash of
# this script, pause.c, the busybox-static version and the node binary); an
# image whose stamp matches is not rebuilt.
#
#   bash scripts/build-images.sh [--force]          build what is out of date
#   bash scripts/build-images.sh import SOCKET      also import every image into
#                                                   the containerd at SOCKET, namespace
#                                                   k8s.io (skipped when it has that digest)
#   bash scripts/build-images.sh refs               print the image names
# Environment: ENGINE_DIR (default <repo>/.engine).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENGINE_DIR="${ENGINE_DIR:-$ROOT/.engine}"
OUT="$ENGINE_DIR/images"
STAMPS="$ENGINE_DIR/stamps"
FORCE=0
IMAGES=(pause busybox node)
REGISTRY=titan.local
TAG=1
PATH_ENV="PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

log() { printf '[build-images] %s\n' "$*"; }
die() { printf '[build-images] %s\n' "$*" >&2; exit 1; }

cmd=build socket=""
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
    import) cmd=import ;;
    refs) cmd=refs ;;
    *) if [ "$cmd" = import ] && [ -z "$socket" ]; then socket="$arg"; else die "unknown argument: $arg"; fi ;;
  esac
done

ref() { echo "$REGISTRY/$1:$TAG"; }
if [ "$cmd" = refs ]; then
  for image in "${IMAGES[@]}"; do ref "$image"; done
  exit 0
fi

need() {
  local missing=() c
  for c in gcc tar sha256sum ldd; do command -v "$c" >/dev/null || missing+=("$c"); done
  [ -x /bin/busybox ] || missing+=("/bin/busybox (Debian package busybox-static)")
  [ -x /usr/bin/node ] || missing+=("/usr/bin/node")
  [ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]}"
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
    die "the Debian package busybox-static is not installed (its /bin/busybox needs no libraries)"
}

# stamp NAME: what an image is built from.
stamp() {
  local parts
  parts="$(sha256sum "$0" | cut -c1-16) arch=$(dpkg --print-architecture)"
  case "$1" in
    pause) parts+=" pause.c=$(sha256sum "$ROOT/tools/images/pause.c" | cut -c1-16) gcc=$(gcc -dumpfullversion)" ;;
    busybox) parts+=" busybox-static=$(dpkg-query -W -f='${Version}' busybox-static)" ;;
    node) parts+=" busybox-static=$(dpkg-query -W -f='${Version}' busybox-static) node=$(/usr/bin/node --version)-$(sha256sum /usr/bin/node | cut -c1-16)" ;;
  esac
  echo "$parts"
}

# Deterministic tar of a folder's contents (sorted, owner 0, mtime 0).
pack() { tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu -C "$1" -cf "$2" .; }

# blob LAYOUT FILE: moves FILE into LAYOUT/blobs/sha256, prints "DIGEST SIZE".
blob() {
  local sum size
  sum=$(sha256sum "$2" | cut -d' ' -f1)
  size=$(stat -c %s "$2")
  mv -f "$2" "$1/blobs/sha256/$sum"
  echo "sha256:$sum $size"
}

# The root file systems of the layers.
rootfs_pause() {
  gcc -static -Os -s -Wall -Wextra -Werror -o "$1/pause" "$ROOT/tools/images/pause.c"
}

rootfs_busybox() {
  local applet
  mkdir -p "$1"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,proc,sys,dev,run,root,var/www}
  chmod 1777 "$1/tmp"
  cp /bin/busybox "$1/bin/busybox"
  for applet in $(/bin/busybox --list-full); do
    [ -e "$1/$applet" ] || ln -s /bin/busybox "$1/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$1/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$1/etc/group"
}

rootfs_node() {
  local lib
  mkdir -p "$1/usr/bin"
  cp /usr/bin/node "$1/usr/bin/node"
  # The loader and every library ldd resolves, at the path ldd names.
  for lib in $(ldd /usr/bin/node | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
    mkdir -p "$1$(dirname "$lib")"
    cp -L "$lib" "$1$lib"
  done
}

# image NAME LAYER... -- ENTRYPOINT-JSON CMD-JSON: writes OUT/NAME.oci.tar.
image() {
  local name="$1" work layout layers=() diff_ids=() layer entry cmdj d s config manifest
  shift
  while [ "$1" != -- ]; do layers+=("$1"); shift; done
  entry="$2" cmdj="$3"
  work=$(mktemp -d "$OUT/.build-$name.XXXXXX")
  layout="$work/layout"
  mkdir -p "$layout/blobs/sha256"
  local layer_json="" diff_json=""
  for layer in "${layers[@]}"; do
    mkdir -p "$work/rootfs-$layer"
    "rootfs_$layer" "$work/rootfs-$layer"
    pack "$work/rootfs-$layer" "$work/layer.tar"
    read -r d s < <(blob "$layout" "$work/layer.tar")
    layer_json+="${layer_json:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"$d\",\"size\":$s}"
    diff_json+="${diff_json:+,}\"$d\""
  done
  printf '{"architecture":"%s","os":"linux","config":{"Env":["%s"],"Entrypoint":%s,"Cmd":%s,"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
    "$(dpkg --print-architecture)" "$PATH_ENV" "$entry" "$cmdj" "$diff_json" >"$work/config.json"
  read -r d s < <(blob "$layout" "$work/config.json")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[%s]}' \
    "$d" "$s" "$layer_json" >"$work/manifest.json"
  read -r d s < <(blob "$layout" "$work/manifest.json")
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$d" "$s" "$(ref "$name")" "$TAG" >"$layout/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  pack "$layout" "$OUT/$name.oci.tar.tmp"
  mv -f "$OUT/$name.oci.tar.tmp" "$OUT/$name.oci.tar"
  echo "$d" >"$OUT/$name.digest"
  rm -rf "$work"
}

build_pause() { image pause pause -- '["/pause"]' 'null'; }
build_busybox() { image busybox busybox -- 'null' '["sh"]'; }
build_node() { image node busybox node -- 'null' '["node"]'; }

build() {
  local name="$1" want start=$SECONDS
  want=$(stamp "$name")
  if [ "$FORCE" != 1 ] && [ -f "$OUT/$name.oci.tar" ] && [ "$(cat "$STAMPS/image-$name" 2>/dev/null)" = "$want" ]; then
    log "$name: up to date ($(cat "$OUT/$name.digest")), skipped"
    return 0
  fi
  log "$name: building..."
  rm -f "$STAMPS/image-$name"
  "build_$name"
  echo "$want" >"$STAMPS/image-$name"
  log "$name: $(ref "$name") $(cat "$OUT/$name.digest"), $(($(stat -c %s "$OUT/$name.oci.tar") / 1024 / 1024)) MiB, built in $((SECONDS - start))s"
}

import() {
  local name digest have
  command -v ctr >/dev/null || die "ctr is not installed (Debian package containerd)"
  [ -S "$socket" ] || die "import: no containerd socket at $socket"
  for name in "${IMAGES[@]}"; do
    digest=$(cat "$OUT/$name.digest")
    have=$(ctr --address "$socket" -n k8s.io images ls 2>/dev/null | awk -v r="$(ref "$name")" '$1 == r {print $3}')
    if [ "$have" = "$digest" ]; then
      log "$name: $(ref "$name") already in containerd ($digest)"
      continue
    fi
    ctr --address "$socket" -n k8s.io images import "$OUT/$name.oci.tar" >/dev/null
    have=$(ctr --address "$socket" -n k8s.io images ls 2>/dev/null | awk -v r="$(ref "$name")" '$1 == r {print $3}')
    [ "$have" = "$digest" ] || die "$name: imported, but containerd lists $(ref "$name") as \"$have\", expected $digest"
    log "$name: imported $(ref "$name") ($digest)"
  done
}

need
mkdir -p "$OUT" "$STAMPS"
total=$SECONDS
for image in "${IMAGES[@]}"; do build "$image"; done
log "done in $((SECONDS - total))s; archives in $OUT"
[ "$cmd" = import ] && import
exit 0
