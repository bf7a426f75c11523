#!/usr/bin/env bash
# The README's test command (`npm test`): installs the system packages the tests need when
# they are missing (real MQTT clients, a real InfluxDB, a real PostgreSQL, HAProxy, a real browser), type-checks, looks for
# unused files, exports and dependencies (knip), and runs every vitest project. Nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v mosquitto_pub >/dev/null 2>&1 || need+=(mosquitto-clients)
command -v influxd >/dev/null 2>&1 || need+=(influxdb)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/sbin/haproxy ] || need+=(haproxy)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# a CJK font, so the browser tests' screenshots show the Chinese labels
fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-wqy-zenhei)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

npx tsc -p tsconfig.json --noEmit
# An unused file, export or dependency fails the run (knip.json lists the entry points).
npx knip
# Through the test command every real service is required: a missing one fails the run (as in CI).
GATEWAY_TEST_REQUIRE_SERVICES=1 npx vitest run "$@"
