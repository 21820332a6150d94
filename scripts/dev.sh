#!/usr/bin/env bash
# The main job on the dev stack: `pulumi up` with manifests rendered to
# ./rendered. Extra arguments replace `up --yes`, e.g.
#   npm run dev -- preview --diff
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
run() { bash "$repo/scripts/pulumi.sh" "$@"; }
run stack select dev --create >/dev/null
if [ $# -eq 0 ]; then
  run up --yes --diff
  echo
  echo "Rendered manifests: $repo/rendered  (ledger: bash scripts/pulumi.sh stack output ledger)"
else
  run "$@"
fi
