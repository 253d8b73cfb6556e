#!/usr/bin/env bash
# Builds promtool from the Prometheus Go module (github.com/prometheus/prometheus/cmd/promtool) into
# .cache/promtool/<version>/, once; later runs print the cached path. The first build downloads the
# module's dependencies and compiles ~1000 packages (about 10 min on 2 busy cores); the Go build cache
# makes a rebuild quick.
#
#   scripts/promtool.sh            # -> <repo>/.cache/promtool/v0.316.0/promtool
set -euo pipefail

VERSION=v0.316.0 # Prometheus 3.x; the module's tags are v0.3MM.P for Prometheus 3.MM.P
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$HERE/../.cache/promtool/$VERSION"
BIN="$OUT/promtool"
log() { printf '[promtool] %s\n' "$*" >&2; }

if [[ -x "$BIN" ]]; then echo "$BIN"; exit 0; fi
command -v go >/dev/null 2>&1 || { log "ERROR: 'go' not found on PATH; install Go >= 1.26"; exit 1; }
mkdir -p "$OUT"
exec 9>"$OUT/.lock"
flock 9
if [[ ! -x "$BIN" ]]; then
  log "building promtool $VERSION from the Go module proxy (first run: several minutes)…"
  tmp="$(mktemp -d)"
  (cd "$tmp" && GOWORK=off GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOBIN="$OUT" \
    go install -trimpath -ldflags '-s -w' "github.com/prometheus/prometheus/cmd/promtool@$VERSION" >&2)
  rm -rf "$tmp"
fi
"$BIN" --version >&2
echo "$BIN"
