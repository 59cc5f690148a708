#!/usr/bin/env bash
# The main job: builds the Embedded device binary and runs it against a broker.
# Without Azure credentials it starts a local TLS mosquitto (test CA made by openssl)
# as the stand-in, connects over TLS, publishes QoS 1 messages and receives them back.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --scratch-path .build-embedded-static --traits Embedded,StaticMbedTLS -Xswiftc -Osize \
  --product mqtt-demo >/tmp/tinyhub-demo-build.log 2>&1 || { cat /tmp/tinyhub-demo-build.log; exit 1; }
source scripts/local-broker.sh
trap stop_broker EXIT
echo "local TLS broker on localhost:$BROKER_PORT (CA $BROKER_CA)"
MQTT_HOST=localhost MQTT_PORT=$BROKER_PORT MQTT_CA_FILE=$BROKER_CA .build-embedded-static/release/mqtt-demo --count "${COUNT:-5}"
