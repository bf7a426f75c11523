#!/usr/bin/env bash
# `npm run soak`: the hostile-input, flood and crash suites at soak sizes (SECURITY.md).
# CI (`npm test`) runs the same tests at CI sizes. Sizes (override any of them):
#   GW_FUZZ_MQTT_CASES   heartbeat payloads over MQTT   CI 100,000   soak 1,000,000
#   GW_FUZZ_TOPIC_CASES  hostile topics over MQTT       CI 3,000     soak 30,000
#   GW_FUZZ_API_CASES    bodies per POST/PUT/PATCH      CI 10,000    soak 50,000
#   GW_CRASH_KILLS       SIGKILLs under QoS 1 load      CI 5         soak 25
#   GW_FUZZ_SEED         seed of every generator        20201009
set -euo pipefail
cd "$(dirname "$0")/.."
export GW_SOAK=1
npx vitest run --project unit test/unit/security
npx vitest run --project integration test/integration/security test/integration/reliability test/integration/durability.test.ts "$@"
