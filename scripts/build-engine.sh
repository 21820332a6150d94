#!/usr/bin/env bash
# Builds the Pulumi engine binaries this project needs from Go modules (the
# official CLI/plugin downloads are not reachable here) into .engine/bin:
#
#   pulumi                      CLI v3.248.0                (tools/engine/cli)
#   pulumi-language-nodejs      Node.js language host       (tools/engine/language-nodejs)
#   pulumi-resource-kubernetes  kubernetes provider 4.25.0  (tools/engine/kubernetes)
#   pulumi-resource-random      random provider 4.18.4      (tools/engine/random)
#
# See tools/engine/README.md for where each comes from and why.
#
# Each binary has a stamp file (.engine/stamps/NAME): its version, the build
# recipe revision, the Go version and a hash of its module's committed files.
# A binary whose stamp matches is not rebuilt.
#
# Usage: scripts/build-engine.sh [--force] [--install-plugins] [NAME...]
#   --force            rebuild even when the stamp matches (or ENGINE_FORCE=1)
#   --install-plugins  afterwards copy the two providers into the plugin cache
#                      of $PULUMI_HOME (default ~/.pulumi), so that they are
#                      found without .engine/bin on PATH (and without the
#                      "using ... from $PATH" warnings)
#   NAME...            build only these binaries (default: all four)
# Environment: ENGINE_DIR (default <repo>/.engine), ENGINE_GO_JOBS (default 2).
#
# Needs Go and Node.js, and the Go module proxy (first build only).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/tools/engine"
ENGINE_DIR="${ENGINE_DIR:-$ROOT/.engine}"
BIN="$ENGINE_DIR/bin"
STAMPS="$ENGINE_DIR/stamps"
WORK="$ENGINE_DIR/work"
JOBS="${ENGINE_GO_JOBS:-2}"
FORCE="${ENGINE_FORCE:-0}"
INSTALL_PLUGINS=0

# Versions. Keep them in step with package.json and tools/engine/*/go.mod.
PULUMI_VERSION="v3.248.0"
# The v3.248.0 language host module is not served by the Go module proxy (see
# tools/engine/README.md); v3.68.0 is the newest release shipping it in sdk/v3.
LANGUAGE_NODEJS_VERSION="v3.68.0"
KUBERNETES_VERSION="4.25.0"
RANDOM_VERSION="4.18.4"
# Bump when the way binaries are built changes (flags, generated files...).
RECIPE=1

# Pure-Go binaries, as upstream releases are built (CGO_ENABLED=0 and
# -mod=readonly come from scripts/lib/gobuild.sh).

all=(pulumi pulumi-language-nodejs pulumi-resource-kubernetes pulumi-resource-random)
targets=()
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --install-plugins) INSTALL_PLUGINS=1 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    pulumi|pulumi-language-nodejs|pulumi-resource-kubernetes|pulumi-resource-random) targets+=("$arg") ;;
    *) echo "build-engine: unknown argument: $arg" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

command -v go >/dev/null || { echo "build-engine: go is not on PATH" >&2; exit 1; }
command -v node >/dev/null || { echo "build-engine: node is not on PATH" >&2; exit 1; }
mkdir -p "$BIN" "$STAMPS" "$WORK"

log() { printf '[build-engine] %s\n' "$*"; }
# inputs_hash, go_build (shared with scripts/build-cluster.sh).
# shellcheck source=lib/gobuild.sh
. "$ROOT/scripts/lib/gobuild.sh"

# mod_dir MODULE_DIR MODULE: directory of MODULE in the module cache, at the
# version that MODULE_DIR's go.mod selects (downloaded if needed).
mod_dir() {
  (cd "$1" && go mod download "$2" && go list -m -f '{{.Dir}}' "$2")
}

# json_embed SRC DEST [VERSION]: minified copy of a JSON file, optionally with
# its top-level "version" set (what the upstream `go generate` steps do).
json_embed() {
  node -e '
    const fs = require("fs");
    const [src, dest, version] = process.argv.slice(1);
    const doc = JSON.parse(fs.readFileSync(src, "utf8"));
    if (version) doc.version = version;
    fs.writeFileSync(dest, JSON.stringify(doc));
  ' "$1" "$2" "${3:-}"
}

build_pulumi() {
  # Tags as in upstream's .goreleaser.yml.
  go_build "$TOOLS/cli" "$BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    osusergo,grpcnotrace
}

build_pulumi-language-nodejs() {
  go_build "$TOOLS/language-nodejs" "$BIN/pulumi-language-nodejs" \
    github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$LANGUAGE_NODEJS_VERSION" \
    osusergo,grpcnotrace
}

build_pulumi-resource-kubernetes() {
  local dir="$TOOLS/kubernetes" src
  src="$(mod_dir "$dir" github.com/pulumi/pulumi-kubernetes/provider/v4)/cmd/pulumi-resource-kubernetes"
  json_embed "$src/schema.json" "$dir/schema-embed.json" "$KUBERNETES_VERSION"
  json_embed "$src/terraform-mapping.json" "$dir/terraform-mapping-embed.json"
  go_build "$dir" "$BIN/pulumi-resource-kubernetes" . \
    "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$KUBERNETES_VERSION"
}

build_pulumi-resource-random() {
  local dir="$TOOLS/random" gen="$WORK/random" upstream
  local ldflags="-X titan-secrets/tools/engine/random.Version=$RANDOM_VERSION"
  rm -rf "$gen" && mkdir -p "$gen"
  # The upstream random provider at the commit pulumi-random 4.18.4 pins is not
  # in the checksum database: trust go.sum (committed) for it.
  export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/terraform-providers/terraform-provider-random"
  upstream="$(mod_dir "$dir" github.com/terraform-providers/terraform-provider-random)"
  # 1. Generate schema.json and bridge-metadata.json with the bridge's tfgen
  #    (upstream docs/ from the module cache fill in the descriptions). Without
  #    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION its example converter tries
  #    to download a plugin and waits ~60s for the network to time out.
  go_build "$dir" "$gen/pulumi-tfgen-random" ./cmd/pulumi-tfgen-random "$ldflags"
  (cd "$gen" && PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true PULUMI_SKIP_UPDATE_CHECK=true \
    TF_UPSTREAM_REPO_PATH="$upstream" ./pulumi-tfgen-random schema --out "$gen" \
    >"$gen/tfgen.log" 2>&1) || { cat "$gen/tfgen.log" >&2; return 1; }
  rm -f "$gen/pulumi-tfgen-random"
  # 2. Embed them into the provider binary.
  json_embed "$gen/schema.json" "$dir/cmd/pulumi-resource-random/schema-embed.json" "$RANDOM_VERSION"
  json_embed "$gen/bridge-metadata.json" "$dir/cmd/pulumi-resource-random/bridge-metadata.json"
  go_build "$dir" "$BIN/pulumi-resource-random" ./cmd/pulumi-resource-random "$ldflags"
}

module_of() {
  case "$1" in
    pulumi) echo cli ;;
    pulumi-language-nodejs) echo language-nodejs ;;
    pulumi-resource-kubernetes) echo kubernetes ;;
    pulumi-resource-random) echo random ;;
  esac
}

version_of() {
  case "$1" in
    pulumi) echo "$PULUMI_VERSION" ;;
    pulumi-language-nodejs) echo "$LANGUAGE_NODEJS_VERSION" ;;
    pulumi-resource-kubernetes) echo "$KUBERNETES_VERSION" ;;
    pulumi-resource-random) echo "$RANDOM_VERSION" ;;
  esac
}

# install_plugin NAME VERSION: copy BIN/pulumi-resource-NAME into the plugin
# cache unless the same file is already there.
install_plugin() {
  local name="$1" version="$2" home="${PULUMI_HOME:-$HOME/.pulumi}"
  local installed="$home/plugins/resource-$name-v$version/pulumi-resource-$name"
  if [ -f "$installed" ] && cmp -s "$installed" "$BIN/pulumi-resource-$name"; then
    log "plugin resource $name v$version: already in $home/plugins"
    return
  fi
  "$BIN/pulumi" plugin install resource "$name" "v$version" --file "$BIN/pulumi-resource-$name" --reinstall
  log "plugin resource $name v$version: installed in $home/plugins"
}

go_version="$(go env GOVERSION)"
total_start=$SECONDS
for name in "${targets[@]}"; do
  version="$(version_of "$name")"
  stamp="$version recipe=$RECIPE $go_version $(inputs_hash "$TOOLS/$(module_of "$name")")"
  if [ "$FORCE" != 1 ] && [ -x "$BIN/$name" ] && [ "$(cat "$STAMPS/$name" 2>/dev/null)" = "$stamp" ]; then
    log "$name $version: up to date ($stamp), skipped"
    continue
  fi
  log "$name $version: building..."
  start=$SECONDS
  rm -f "$STAMPS/$name"
  "build_$name"
  echo "$stamp" >"$STAMPS/$name"
  log "$name $version: built in $((SECONDS - start))s ($(du -h "$BIN/$name" | cut -f1))"
done
log "done in $((SECONDS - total_start))s; binaries in $BIN"

if [ "$INSTALL_PLUGINS" = 1 ]; then
  for name in kubernetes random; do
    [ -x "$BIN/pulumi-resource-$name" ] || { echo "build-engine: $BIN/pulumi-resource-$name is missing" >&2; exit 1; }
    [ -x "$BIN/pulumi" ] || { echo "build-engine: $BIN/pulumi is missing" >&2; exit 1; }
    install_plugin "$name" "$(version_of "pulumi-resource-$name")"
  done
fi
