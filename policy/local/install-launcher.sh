#!/usr/bin/env bash
# Links pulumi-analyzer-policy-titan-node into the plugin cache of a
# PULUMI_HOME, where the CLI finds it even when it ignores plugins on PATH:
#   bash policy/local/install-launcher.sh [PULUMI_HOME]   (default: $PULUMI_HOME or ~/.pulumi)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
home=${1:-${PULUMI_HOME:-$HOME/.pulumi}}
version=$(node -p "require('$here/package.json').version")
dir="$home/plugins/analyzer-policy-titan-node-v$version"
mkdir -p "$dir"
ln -sfn "$here/pulumi-analyzer-policy-titan-node" "$dir/pulumi-analyzer-policy-titan-node"
