#!/usr/bin/env bash
# Prints the path of a headless-capable Chromium for the HTML report tests, installing Debian's
# `chromium` package when it is missing (idempotent: apt-get runs only when no browser is found).
#
#   scripts/ensure-chromium.sh          # -> /usr/bin/chromium
#   CHROMIUM_PATH=/opt/chrome/chrome scripts/ensure-chromium.sh   # use that one
set -euo pipefail

log() { printf '[chromium] %s\n' "$*" >&2; }

if [[ -n "${CHROMIUM_PATH:-}" ]]; then
  [[ -x "$CHROMIUM_PATH" ]] || { log "CHROMIUM_PATH=$CHROMIUM_PATH is not executable"; exit 1; }
  echo "$CHROMIUM_PATH"
  exit 0
fi
for c in chromium chromium-browser; do
  if p="$(command -v "$c")"; then echo "$p"; exit 0; fi
done
if ! command -v apt-get >/dev/null 2>&1; then
  log "no chromium on PATH and no apt-get to install it; install Chromium or set CHROMIUM_PATH"
  exit 1
fi
SUDO=()
[[ "$(id -u)" == 0 ]] || SUDO=(sudo -n)
exec 9>/tmp/gloo-guard-chromium-install.lock
flock 9
if ! command -v chromium >/dev/null 2>&1; then
  log "installing Debian's chromium package (apt-get update && apt-get install chromium)…"
  "${SUDO[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium >&2
fi
command -v chromium
