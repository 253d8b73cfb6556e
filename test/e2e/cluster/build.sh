#!/usr/bin/env bash
# Builds a real kube-apiserver and etcd from the Go module proxy (see README.md).
#
#   test/e2e/cluster/build.sh            # build if needed, print the bin dir
#   E2E_BIN_DIR=/some/dir build.sh       # build somewhere else
#   E2E_FORCE_BUILD=1 build.sh           # ignore the stamp
#
# Output: <repo>/.cache/e2e-bin/{kube-apiserver,etcd} and .stamp. The last line
# printed on stdout is the bin dir; progress goes to stderr.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
OUT="${E2E_BIN_DIR:-$REPO/.cache/e2e-bin}"
START=$SECONDS

log() { printf '[e2e-cluster] %s\n' "$*" >&2; }
elapsed() { printf '%ds' $((SECONDS - START)); }

if ! command -v go >/dev/null 2>&1; then
  log "ERROR: 'go' not found on PATH. Install Go >= 1.26 (https://go.dev/dl/)."
  exit 1
fi

mkdir -p "$OUT"

# Serialise concurrent builds (e.g. several test workers starting at once).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$OUT/.lock"
  if ! flock -n 9; then
    log "another build is running; waiting for it to finish…"
    flock 9
  fi
fi

# The stamp covers everything that determines the binaries.
stamp_inputs() {
  cd "$HERE"
  go version
  printf '%s\n' "${GOFLAGS:-}"
  sha256sum go.mod go.sum build.sh
  find cmd -type f -name '*.go' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
}
STAMP="$(stamp_inputs | sha256sum | cut -d' ' -f1)"

if [[ -z "${E2E_FORCE_BUILD:-}" && -x "$OUT/kube-apiserver" && -x "$OUT/etcd" \
      && -f "$OUT/.stamp" && "$(cat "$OUT/.stamp")" == "$STAMP" ]]; then
  log "binaries up to date in $OUT"
  echo "$OUT"
  exit 0
fi

cd "$HERE"
export CGO_ENABLED=0 GOWORK=off GOFLAGS="${GOFLAGS:-} -mod=readonly -buildvcs=false"

# Version ldflags: without them /version reports v0.0.0-master+$Format:%H$.
KV="$(go list -m -f '{{.Version}}' k8s.io/kubernetes)"          # e.g. v1.36.3
ETCDV="$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)" # e.g. v3.6.8
MAJOR="${KV#v}"; MAJOR="${MAJOR%%.*}"
MINOR="${KV#v*.}"; MINOR="${MINOR%%.*}"
V=k8s.io/component-base/version
LDFLAGS="-s -w -X $V.gitVersion=$KV -X $V.gitMajor=$MAJOR -X $V.gitMinor=$MINOR -X $V.gitTreeState=clean"

if [[ -f "$OUT/.stamp" ]]; then
  log "sources changed since the last build; rebuilding (uses the Go build cache, usually < 1 min)"
else
  log "first build of kube-apiserver $KV and etcd $ETCDV into $OUT"
  log "this compiles ~2000 Go packages: ~5 min on 2 cores (measured), later runs are cached"
fi

log "downloading Go modules (first run fetches ~570 MB from the module proxy)…"
go mod download
log "modules ready ($(elapsed))"

# Run `go build -v` in the background and print a heartbeat with the number of
# packages compiled so far, so nobody stares at a silent terminal.
build_one() {
  local name=$1 hint=$2 plog
  plog="$(mktemp)"
  log "compiling $name ($hint)…"
  local t0=$SECONDS
  go build -v -trimpath -ldflags "$LDFLAGS" -o "$OUT/$name.tmp" "./cmd/$name" 2>"$plog" &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "  still compiling $name: $((SECONDS - t0))s, $(grep -vc '^go: ' "$plog" || true) packages built"
    fi
  done
  if ! wait "$pid"; then
    log "ERROR: building $name failed:"
    grep -v '^[a-zA-Z0-9_./-]*$' "$plog" >&2 || cat "$plog" >&2
    rm -f "$plog" "$OUT/$name.tmp"
    exit 1
  fi
  rm -f "$plog"
  mv -f "$OUT/$name.tmp" "$OUT/$name"
  log "built $name in $((SECONDS - t0))s ($(du -h "$OUT/$name" | cut -f1))"
}

rm -f "$OUT/.stamp"
build_one etcd "first run takes ~1 minute"
build_one kube-apiserver "first run takes ~4 minutes, ~1600 packages"
echo "$STAMP" >"$OUT/.stamp"
log "done in $(elapsed): $("$OUT/kube-apiserver" --version 2>&1 | head -1), etcd $ETCDV"
echo "$OUT"
