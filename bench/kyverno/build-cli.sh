#!/usr/bin/env bash
# Builds the Kyverno CLI (the second peer of `npm run bench`, issue 17 item 5) into
# .cache/kyverno/kyverno, from the Go module proxy. Kyverno's go.mod has replace directives, which a
# wrapper module would ignore, so the build runs inside the module's own source tree (the module
# cache's read-only copy; only the binary is written elsewhere). About 7 minutes on a quiet 2-core
# machine with an empty build cache; an hour and more at a load average of 25. Cached by a stamp.
#
#   bash bench/kyverno/build.sh            # KYVERNO_VERSION=v1.19.1 by default
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
VERSION="${KYVERNO_VERSION:-v1.19.1}"
OUT="$REPO/.cache/kyverno"
BIN="$OUT/kyverno"
STAMP="$OUT/kyverno.stamp"
mkdir -p "$OUT"
if [[ -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$VERSION $(go env GOVERSION)" ]]; then
  echo "kyverno $VERSION up to date in $BIN"
  exit 0
fi
# The module's directory in the module cache (downloaded through the proxy when absent).
DIR="$(cd "$(mktemp -d)" && GOFLAGS=-mod=mod go mod download -json "github.com/kyverno/kyverno@$VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[[ -n "$DIR" && -d "$DIR" ]] || { echo "kyverno $VERSION: go mod download gave no directory" >&2; exit 1; }
echo "building kyverno $VERSION from $DIR (about 7 min on a quiet machine)"
started=$(date +%s)
(cd "$DIR" && go build -trimpath -o "$BIN.tmp" ./cmd/cli/kubectl-kyverno)
mv "$BIN.tmp" "$BIN"
echo "$VERSION $(go env GOVERSION)" >"$STAMP"
echo "built $BIN in $(($(date +%s) - started)) s"
