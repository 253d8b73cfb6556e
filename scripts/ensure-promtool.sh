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
TOOL=promtool
# shellcheck source=lib/ensure-tool.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/ensure-tool.sh"

print_if_found PROMTOOL_PATH promtool
install_lock PROMTOOL_PATH
print_if_found PROMTOOL_PATH promtool

POLICY=/usr/sbin/policy-rc.d
own_policy=
if [[ ! -e "$POLICY" ]]; then
  own_policy=1
  printf '#!/bin/sh\n# gloo-guard scripts/ensure-promtool.sh: no service starts while installing promtool\nexit 101\n' |
    "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  trap '"${SUDO[@]}" rm -f "$POLICY"' EXIT
fi
apt_install prometheus
if [[ -n "$own_policy" ]]; then "${SUDO[@]}" rm -f "$POLICY"; trap - EXIT; fi

# The init script's pid file: a daemon started by the install despite the policy is stopped.
PIDFILE=/run/prometheus/prometheus.pid
if [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  log "the install started a Prometheus server (pid $(cat "$PIDFILE")); stopping it"
  "${SUDO[@]}" /etc/init.d/prometheus stop >&2 || "${SUDO[@]}" kill "$(cat "$PIDFILE")"
fi
command -v promtool
