#!/usr/bin/env bash
# Builds actionlint (the GitHub Actions workflow linter) from its Go module,
# served by the Go module proxy, into .engine/bin/actionlint. Skipped when a
# binary of the pinned version is already there. Used by test/workflows.test.ts.
#
# Usage: bash tools/actionlint/build.sh [--force]
# Environment: ENGINE_DIR (default <repo>/.engine), ENGINE_GO_JOBS (default 2).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ENGINE_DIR="${ENGINE_DIR:-$ROOT/.engine}"
BIN="$ENGINE_DIR/bin"
STAMPS="$ENGINE_DIR/stamps"
JOBS="${ENGINE_GO_JOBS:-2}"
VERSION="v1.7.12"
MODULE="github.com/rhysd/actionlint/cmd/actionlint"

force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "actionlint/build.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

command -v go >/dev/null || { echo "actionlint/build.sh: go is not on PATH" >&2; exit 1; }
mkdir -p "$BIN" "$STAMPS"

stamp="$VERSION $(go env GOVERSION)"
if [ "$force" != 1 ] && [ -x "$BIN/actionlint" ] && [ "$(cat "$STAMPS/actionlint" 2>/dev/null)" = "$stamp" ]; then
  echo "[actionlint] $VERSION: up to date, skipped"
  exit 0
fi

echo "[actionlint] $VERSION: building..."
start=$SECONDS
rm -f "$STAMPS/actionlint"
# `go install module@version` builds outside any module, with the module's
# own go.mod/go.sum (checked against the checksum database).
CGO_ENABLED=0 GOTOOLCHAIN="${GOTOOLCHAIN:-local}" GOFLAGS="-buildvcs=false" GOBIN="$BIN" \
  go install -p "$JOBS" -trimpath -ldflags "-s -w -X github.com/rhysd/actionlint.version=$VERSION" "$MODULE@$VERSION"
echo "$stamp" >"$STAMPS/actionlint"
echo "[actionlint] $VERSION: built in $((SECONDS - start))s into $BIN/actionlint"
