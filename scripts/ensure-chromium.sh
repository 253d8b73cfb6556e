#!/usr/bin/env bash
# Prints the path of a headless-capable Chromium for the HTML report tests, installing Debian's
# `chromium` package when it is missing (idempotent: apt-get runs only when no browser is found).
#
#   scripts/ensure-chromium.sh          # -> /usr/bin/chromium
#   CHROMIUM_PATH=/opt/chrome/chrome scripts/ensure-chromium.sh   # use that one
set -euo pipefail
TOOL=chromium
# shellcheck source=lib/ensure-tool.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/ensure-tool.sh"

print_if_found CHROMIUM_PATH chromium chromium-browser
install_lock CHROMIUM_PATH
print_if_found CHROMIUM_PATH chromium
apt_install chromium
command -v chromium
