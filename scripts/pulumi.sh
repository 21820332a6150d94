#!/usr/bin/env bash
# Runs the Pulumi CLI built by scripts/build-engine.sh against this repo's
# local state: `bash scripts/pulumi.sh <pulumi args>`. Nothing here talks to
# Pulumi Cloud or downloads a plugin.
#   PULUMI_STATE_DIR         state folder (default .pulumi-dev/ in the repo)
#   PULUMI_CONFIG_PASSPHRASE passphrase of the dev stack's secrets (default:
#                            the dev stack's published one, "titan-dev")
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ ! -x "$repo/.engine/bin/pulumi" ]; then
  echo "scripts/pulumi.sh: no engine in .engine/bin; run: bash scripts/setup.sh" >&2
  exit 2
fi
state=${PULUMI_STATE_DIR:-$repo/.pulumi-dev}
mkdir -p "$state/backend" "$state/home"
export PATH="$repo/.engine/bin:$PATH"
export PULUMI_HOME="$state/home"
export PULUMI_BACKEND_URL="file://$state/backend"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-titan-dev}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# The providers are linked into PULUMI_HOME's plugin cache at the versions
# the npm SDKs ask for, and ambient (PATH) plugins are ignored: the CLI then
# finds each by exact version, without "using ... from $PATH" warnings.
for name in kubernetes random; do
  version=$(node -p "require('$repo/node_modules/@pulumi/$name/package.json').version")
  dir="$PULUMI_HOME/plugins/resource-$name-v$version"
  mkdir -p "$dir"
  ln -sfn "$repo/.engine/bin/pulumi-resource-$name" "$dir/pulumi-resource-$name"
done
export PULUMI_IGNORE_AMBIENT_PLUGINS=true
# Render mode refuses a kubeconfig (kubernetes provider <= 4.31).
unset KUBECONFIG
cd "$repo"
exec pulumi "$@"
