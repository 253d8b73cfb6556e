#!/usr/bin/env bash
# Prints the path of a promtool for the chart's alert and dashboard tests, installing Debian's
# `prometheus` package (bookworm: 2.42.0, which ships /usr/bin/promtool) when none is found
# (idempotent: apt-get runs only when promtool is missing).
#
#   scripts/ensure-promtool.sh                                  # -> /usr/bin/promtool
#   PROMTOOL_PATH=/opt/prometheus/promtool scripts/ensure-promtool.sh   # use that one
#
# The package also carries the Prometheus server and an init script. We only want promtool, so the
# install must not leave a Prometheus running (it would listen on :9090 on every interface): where the
# machine has no /usr/sbin/policy-rc.d (Debian's container images ship one that refuses), one that
# refuses service starts is put in place for the install, and any daemon the install started anyway
# is stopped.
set -euo pipefail

log() { printf '[promtool] %s\n' "$*" >&2; }

if [[ -n "${PROMTOOL_PATH:-}" ]]; then
  [[ -x "$PROMTOOL_PATH" ]] || { log "PROMTOOL_PATH=$PROMTOOL_PATH is not executable"; exit 1; }
  echo "$PROMTOOL_PATH"
  exit 0
fi
if p="$(command -v promtool)"; then echo "$p"; exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  log "no promtool on PATH and no apt-get to install it; install Prometheus's promtool or set PROMTOOL_PATH"
  exit 1
fi
SUDO=()
[[ "$(id -u)" == 0 ]] || SUDO=(sudo -n)
exec 9>/tmp/gloo-guard-promtool-install.lock
flock 9
if command -v promtool >/dev/null 2>&1; then command -v promtool; exit 0; fi

POLICY=/usr/sbin/policy-rc.d
own_policy=
if [[ ! -e "$POLICY" ]]; then
  own_policy=1
  printf '#!/bin/sh\n# gloo-guard scripts/ensure-promtool.sh: no service starts while installing promtool\nexit 101\n' |
    "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  trap '"${SUDO[@]}" rm -f "$POLICY"' EXIT
fi
log "installing Debian's prometheus package for promtool (apt-get update && apt-get install prometheus)…"
"${SUDO[@]}" apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends prometheus >&2
[[ -n "$own_policy" ]] && { "${SUDO[@]}" rm -f "$POLICY"; trap - EXIT; }

# The init script's pid file: a daemon started by the install despite the policy is stopped.
PIDFILE=/run/prometheus/prometheus.pid
if [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  log "the install started a Prometheus server (pid $(cat "$PIDFILE")); stopping it"
  "${SUDO[@]}" /etc/init.d/prometheus stop >&2 || "${SUDO[@]}" kill "$(cat "$PIDFILE")"
fi
command -v promtool
