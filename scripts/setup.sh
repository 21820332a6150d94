#!/usr/bin/env bash
# Everything a fresh machine needs before `npm run dev` or `npm test`:
# the npm packages and the Pulumi engine built from Go modules. Safe to
# re-run: each part is skipped when already up to date.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi

bash scripts/build-engine.sh
