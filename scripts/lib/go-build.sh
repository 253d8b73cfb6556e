# shellcheck shell=bash
# The preamble the Go harness builds share (test/helm-diff/build.sh, bench/kyverno/build.sh): the
# Go check, one build at a time per output dir, and the stamp that skips a build whose inputs are
# unchanged. Source it after setting LOG_TAG; progress and errors go to stderr.

log() { printf '[%s] %s\n' "$LOG_TAG" "$*" >&2; }

# require_go WHAT: one line and exit 1 when Go is missing.
require_go() {
  command -v go >/dev/null 2>&1 && return 0
  log "ERROR: 'go' not found on PATH. $1 needs Go >= 1.26 (https://go.dev/dl/)."
  exit 1
}

# lock_dir DIR: creates DIR and holds DIR/.lock (fd 9) until the script ends, so concurrent builds
# (several test files start at once) wait for the first.
lock_dir() {
  mkdir -p "$1"
  exec 9>"$1/.lock"
  if ! flock -n 9; then
    log "another build is running; waiting for it to finish…"
    flock 9
  fi
}

# stamp_current DIR STAMP BINARY...: true when DIR/.stamp holds STAMP and every BINARY is there.
stamp_current() {
  local dir=$1 stamp=$2 bin
  shift 2
  for bin in "$@"; do [[ -x "$bin" ]] || return 1; done
  [[ -f "$dir/.stamp" && "$(cat "$dir/.stamp")" == "$stamp" ]]
}
