#!/usr/bin/env bash
# `pulumi preview` with the titan-secrets policy pack, through the engine
# built in .engine/ (scripts/pulumi.sh): bash policy/preview.sh --stack dev [--diff ...]
#
# With an official Pulumi CLI, run `pulumi preview --policy-pack policy`
# instead. Our engine's Node.js language host (sdk v3.68.0) cannot start a
# policy pack, so this runs the same pack through policy/local/, whose
# runtime `titan-node` makes the CLI use the launcher
# policy/local/pulumi-analyzer-policy-titan-node (see its header).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
if [ ! -d "$here/node_modules/@pulumi/policy" ]; then
  echo "policy/preview.sh: the policy pack's packages are missing; run: npm ci --prefix policy" >&2
  exit 2
fi
# scripts/pulumi.sh ignores plugins on PATH (PULUMI_IGNORE_AMBIENT_PLUGINS), so
# the launcher goes into the plugin cache of the PULUMI_HOME it uses (the
# CLI looks there for analyzer-policy-titan-node-v<version>/); it is also put
# on PATH for a CLI run without that setting.
state=${PULUMI_STATE_DIR:-$repo/.pulumi-dev}
bash "$here/local/install-launcher.sh" "$state/home"
export PATH="$here/local:$PATH"
exec bash "$repo/scripts/pulumi.sh" preview --policy-pack "$here/local" "$@"
