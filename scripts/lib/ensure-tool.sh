# Sourced by scripts/ensure-*.sh: find a tool the tests need, or install the Debian package that ships
# it, once, under a lock (helpers and test workers may ask at the same time). Set TOOL before sourcing.

log() { printf '[%s] %s\n' "$TOOL" "$*" >&2; }

# print_if_found OVERRIDE_VAR CMD...: prints the path in $OVERRIDE_VAR (which must be executable), or
# the first CMD on PATH, and exits the script; returns when there is none.
print_if_found() {
  local var="$1" p
  shift
  if [[ -n "${!var:-}" ]]; then
    [[ -x "${!var}" ]] || { log "$var=${!var} is not executable"; exit 1; }
    echo "${!var}"
    exit 0
  fi
  for c in "$@"; do
    if p="$(command -v "$c")"; then echo "$p"; exit 0; fi
  done
}

# install_lock OVERRIDE_VAR: fails with a clear line where apt-get is missing, else takes the lock.
install_lock() {
  if ! command -v apt-get >/dev/null 2>&1; then
    log "no $TOOL on PATH and no apt-get to install it; install $TOOL or set $1"
    exit 1
  fi
  SUDO=()
  [[ "$(id -u)" == 0 ]] || SUDO=(sudo -n)
  exec 9>"/tmp/gloo-guard-$TOOL-install.lock"
  flock 9
}

# apt_install PACKAGE: apt-get update, then install it without recommends.
apt_install() {
  log "installing Debian's $1 package (apt-get update && apt-get install $1)…"
  "${SUDO[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "$1" >&2
}
