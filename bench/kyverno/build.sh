#!/usr/bin/env bash
# Builds bench/kyverno/gg-bench (a small harness around Kyverno's CEL ValidatingPolicy engine) inside a
# copy of Kyverno's own source tree from the Go module proxy: Kyverno's go.mod has replace directives,
# which only apply when Kyverno is the main module, so a wrapper module would build something else.
#
#   bench/kyverno/build.sh                 # build if needed, print the binary's path
#   KYVERNO_FORCE_BUILD=1 build.sh         # ignore the stamp
#
# Output: <repo>/.cache/kyverno-bin/gg-bench and .stamp; the source copy is .cache/kyverno-src. The last
# line on stdout is the binary's path; progress goes to stderr.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VERSION="${KYVERNO_VERSION:-v1.19.1}"
OUT="$REPO/.cache/kyverno-bin"
SRC="$REPO/.cache/kyverno-src"
START=$SECONDS

LOG_TAG=kyverno
# shellcheck source=../../scripts/lib/go-build.sh
source "$REPO/scripts/lib/go-build.sh"
require_go "Building Kyverno $VERSION"
lock_dir "$OUT"

STAMP="$( { go version; echo "$VERSION"; sha256sum "$HERE/build.sh" "$HERE/gg-bench/main.go"; } | sha256sum | cut -d' ' -f1)"
if [[ -z "${KYVERNO_FORCE_BUILD:-}" ]] && stamp_current "$OUT" "$STAMP" "$OUT/gg-bench"; then
  echo "$OUT/gg-bench"
  exit 0
fi

export GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false"
# The module source, from the module cache or the proxy (go mod download prints where it is).
MODDIR="$(cd "$REPO" && go mod download -json "github.com/kyverno/kyverno@$VERSION" 2>/dev/null \
  | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [[ -z "$MODDIR" || ! -f "$MODDIR/go.mod" ]]; then
  log "ERROR: could not download github.com/kyverno/kyverno@$VERSION from the Go module proxy"
  exit 1
fi
if [[ ! -f "$SRC/.version" || "$(cat "$SRC/.version")" != "$VERSION" ]]; then
  log "copying Kyverno $VERSION's source tree into $SRC"
  rm -rf "$SRC"
  mkdir -p "$SRC"
  cp -r "$MODDIR/." "$SRC/"
  chmod -R u+w "$SRC"
  echo "$VERSION" >"$SRC/.version"
fi
mkdir -p "$SRC/cmd/gg-bench"
cp "$HERE/gg-bench/main.go" "$SRC/cmd/gg-bench/main.go"
log "compiling gg-bench in Kyverno $VERSION's tree (cold: about 7 min on 2 idle cores; later runs use the Go build cache)"
(cd "$SRC" && go build -trimpath -ldflags='-s -w' -o "$OUT/gg-bench.tmp" ./cmd/gg-bench)
mv "$OUT/gg-bench.tmp" "$OUT/gg-bench"
echo "$STAMP" >"$OUT/.stamp"
log "built in $((SECONDS - START)) s (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "$OUT/gg-bench"
