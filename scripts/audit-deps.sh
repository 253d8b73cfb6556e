#!/usr/bin/env bash
# `npm audit` of the production dependencies (what the image ships), failing on high or critical
# advisories. Exit 0: clean. Exit 1: advisories found (listed). Exit 77 (the usual "skipped" code):
# the registry's audit endpoint could not be reached or answered with an error, so nothing was checked.
set -uo pipefail
cd "$(dirname "$0")/.."

out="$(npm audit --omit=dev --audit-level=high --json 2>/dev/null)"
code=$?

summary="$(node -e '
  let r;
  try { r = JSON.parse(require("fs").readFileSync(0, "utf8")); } catch { console.log("unreadable"); process.exit(); }
  const v = r.metadata && r.metadata.vulnerabilities;
  if (!v) { console.log("unreachable " + String(r.message || (r.error && r.error.summary) || "no report").split("\n")[0]); process.exit(); }
  const names = Object.values(r.vulnerabilities || {})
    .filter((x) => x.severity === "high" || x.severity === "critical")
    .map((x) => `${x.name} (${x.severity})`);
  console.log(`report critical=${v.critical} high=${v.high} moderate=${v.moderate} low=${v.low}` + (names.length ? ` :: ${names.join(", ")}` : ""));
' <<<"$out")"

case "$summary" in
  report*)
    echo "npm audit --omit=dev: ${summary#report }"
    [ "$code" -eq 0 ] && exit 0
    echo "npm audit: high or critical advisories in production dependencies; run npm audit --omit=dev for details" >&2
    exit 1
    ;;
  *)
    echo "npm audit: skipped, the audit endpoint could not be reached (${summary#unreachable })" >&2
    exit 77
    ;;
esac
