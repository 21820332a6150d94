# Shared by scripts/build-engine.sh and scripts/build-cluster.sh: build Go
# binaries from a module of our own under tools/, each with a stamp file so
# that a binary already built from the same inputs is skipped.
#
# The caller sets BIN (output folder), STAMPS (stamp folder) and JOBS (go
# build -p), and may set FORCE=1.

export CGO_ENABLED="${CGO_ENABLED:-0}"
export GOFLAGS="${GOFLAGS:-} -mod=readonly -buildvcs=false"

# inputs_hash DIR: hash of a module directory's committed inputs (Go files,
# go.mod, go.sum; not generated copies).
inputs_hash() {
  (cd "$1" && find . -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) -print0 |
    LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16
}

# go_build MODULE_DIR OUTPUT PACKAGE [LDFLAGS] [TAGS]
go_build() {
  local dir="$1" out="$2" pkg="$3" ldflags="${4:-}" tags="${5:-}"
  (cd "$dir" && go build -p "$JOBS" -trimpath ${tags:+-tags "$tags"} -ldflags "-s -w $ldflags" -o "$out.tmp" "$pkg")
  mv -f "$out.tmp" "$out"
}

# stamped NAME STAMP BUILD_COMMAND...: runs BUILD_COMMAND unless every
# binary it makes (BIN/NAME, or the names in OUTPUTS) exists and the stamp
# file STAMPS/NAME holds STAMP; writes the stamp afterwards.
stamped() {
  local name="$1" stamp="$2" out up_to_date=1; shift 2
  for out in ${OUTPUTS:-$name}; do [ -x "$BIN/$out" ] || up_to_date=0; done
  if [ "${FORCE:-0}" != 1 ] && [ "$up_to_date" = 1 ] && [ "$(cat "$STAMPS/$name" 2>/dev/null)" = "$stamp" ]; then
    log "$name: up to date ($stamp), skipped"
    return 0
  fi
  log "$name: building..."
  local start=$SECONDS
  rm -f "$STAMPS/$name"
  "$@"
  echo "$stamp" >"$STAMPS/$name"
  log "$name: built in $((SECONDS - start))s"
}
