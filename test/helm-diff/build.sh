#!/usr/bin/env bash
# Builds the helm-diff harness: one binary per Helm major, on the real helm.sh/helm modules from the
# Go module proxy (see README.md).
#
#   test/helm-diff/build.sh              # build if needed, print the bin dir
#   HELM_DIFF_BIN_DIR=/dir build.sh      # build somewhere else
#   HELM_DIFF_FORCE_BUILD=1 build.sh     # ignore the stamp
#
# Output: <repo>/.cache/helm-diff-bin/{helm-diff-v3,helm-diff-v4} and .stamp. The last line printed
# on stdout is the bin dir; progress goes to stderr.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="${HELM_DIFF_BIN_DIR:-$REPO/.cache/helm-diff-bin}"
START=$SECONDS

LOG_TAG=helm-diff
# shellcheck source=../../scripts/lib/go-build.sh
source "$REPO/scripts/lib/go-build.sh"
require_go "The differential tests against Helm"
lock_dir "$OUT"

# The stamp covers everything that determines the binaries (common/ is linked into v3 and v4).
stamp_inputs() {
  cd "$HERE"
  go version
  printf '%s\n' "${GOFLAGS:-}"
  find build.sh common shared v3 v4 -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' -o -name '*.sh' \) -print0 \
    | LC_ALL=C sort -z | xargs -0 sha256sum
}
STAMP="$(stamp_inputs | sha256sum | cut -d' ' -f1)"

if [[ -z "${HELM_DIFF_FORCE_BUILD:-}" ]] && stamp_current "$OUT" "$STAMP" "$OUT/helm-diff-v3" "$OUT/helm-diff-v4"; then
  echo "$OUT"
  exit 0
fi

export GOWORK=off GOFLAGS="${GOFLAGS:-} -mod=readonly -buildvcs=false"
if [[ -f "$OUT/.stamp" ]]; then
  log "sources changed since the last build; rebuilding (Go build cache: usually < 1 min)"
else
  log "first build of the harness on helm.sh/helm v3 and v4 into $OUT"
  log "cold (no module or build cache): ~2 min of downloads and ~6 min of compiling on 2 cores; later runs are cached"
fi

build_one() {
  local major=$1 t0=$SECONDS
  log "compiling helm-diff-$major…"
  (cd "$HERE/$major" && go mod download && go build -ldflags '-s -w' -o "$OUT/helm-diff-$major.tmp" .)
  mv -f "$OUT/helm-diff-$major.tmp" "$OUT/helm-diff-$major"
  log "built helm-diff-$major in $((SECONDS - t0))s"
}

rm -f "$OUT/.stamp"
build_one v3
build_one v4
echo "$STAMP" >"$OUT/.stamp"
log "done in $((SECONDS - START))s"
echo "$OUT"
