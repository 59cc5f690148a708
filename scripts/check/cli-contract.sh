#!/usr/bin/env bash
# The examples' CLI contract (README: "The examples (a CLI contract other tools rely on)") as
# executable tests: Tests/CLIContract (Python unittest, standard library) drives the Embedded
# example binaries against the local IoT Hub stand-in (scripts/standin/hub.sh), which this script
# starts and stops. Needs the binaries of scripts/build/embedded.sh (or scripts/demo.sh's build)
# in .build-embedded-static/release (CLI_CONTRACT_BIN to use another folder).
# Usage: scripts/check/cli-contract.sh [unittest arguments, e.g. -k c2d]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$TINYHUB_ROOT"
CLI_CONTRACT_BIN=$(cd "${CLI_CONTRACT_BIN:-.build-embedded-static/release}" && pwd)
for e in hub-telemetry hub-c2d hub-twin hub-methods mqtt-demo; do
  [ -x "$CLI_CONTRACT_BIN/$e" ] || { echo "cli-contract: missing $CLI_CONTRACT_BIN/$e (run scripts/build/embedded.sh)" >&2; exit 1; }
done

source scripts/standin/hub.sh
at_exit stop_hub
# The service side's mosquitto_pub/sub arguments (one per line), as hub.sh's helpers use them.
if [ -n "${HUB_MQTT+set}" ]; then
  CLI_SERVICE_MQTT=$(printf '%s\n' "${HUB_MQTT[@]}")
else
  CLI_SERVICE_MQTT=$(printf '%s\n' -h localhost -p "$HUB_MQTT_PORT" --cafile "$HUB_CA")
fi
export CLI_CONTRACT_BIN CLI_SERVICE_MQTT HUB_CONNECTION_STRING HUB_CA HUB_MQTT_PORT HUB_HTTPS_PORT HUB_DEVICE HUB_DIR
if [ -n "${HUB_GATE_LOG:-}" ]; then export HUB_GATE_LOG; fi
PYTHONDONTWRITEBYTECODE=1 python3 -m unittest discover -s Tests/CLIContract -p 'test_*.py' "$@"
