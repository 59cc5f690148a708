#!/usr/bin/env bash
# A local stand-in for Azure IoT Hub, for demos and tests without Azure. Source it:
#   source scripts/standin/hub.sh    (stop with stop_hub; e.g. `trap stop_hub EXIT`)
# It starts
#   - MQTT: the throw-away mosquitto of scripts/standin/broker.sh behind the IoT Hub gate
#     (Tests/Fixtures/iothub_mqtt_gate.py). Devices connect to the gate (HUB_MQTT_PORT, TLS): it
#     checks client id, user name, SAS token or X.509 certificate, topics, QoS and property bags
#     as IoT Hub does (CONNACK 5 / connection closed otherwise), records the wire in HUB_GATE_LOG
#     (JSON lines) and forwards what it accepts to mosquitto's plain loopback listener. The
#     service side (the helpers below, scripts/standin/hub-service.sh answering twin GET/PATCH)
#     talks to mosquitto's TLS listener (HUB_BROKER_PORT) directly;
#   - HTTPS: Tests/Fixtures/iothub_https_fixture.py (the device REST API, SAS checked), same certificate;
#     on the same port, as IoT Hub does on 443, MQTT over WebSockets (`GET /$iothub/websocket`, checked
#     and bridged to the gate by Tests/Fixtures/websocket_bridge.py; record in HUB_WS_LOG).
# and sets
#   HUB_CONNECTION_STRING  HostName=tinyhub-local.azure-devices.net;GatewayHostName=localhost;DeviceId=demo-device;SharedAccessKey=…
#   HUB_CA HUB_MQTT_PORT HUB_HTTPS_PORT HUB_DEVICE HUB_DIR
#   HUB_ENV                the IOTHUB_* settings for the examples: env "${HUB_ENV[@]}" hub-telemetry …
#   HUB_GATE_LOG           the gate's record: one JSON object per CONNECT/SUBSCRIBE/PUBLISH/… (see the gate's doc)
#   HUB_GATE_CONTROL_PORT  the gate's control port (e.g. {"refuse": 1, "code": 3}; see the gate's doc)
#   HUB_BROKER_PORT        mosquitto's TLS listener (service side; plain MQTT clients such as mqtt-demo)
#   HUB_MQTT               mosquitto_pub/sub arguments of the service side (array)
#   HUB_X509_DEVICE HUB_X509_CERT HUB_X509_KEY HUB_X509_CONNECTION_STRING
#                          a second device registered with an X.509 certificate (CN = device id, signed by HUB_CA)
#   HUB_GATE_ARGS          (optional, set before sourcing) more gate options, e.g. "--api-version 2020-09-30"
# Service-side helpers (what a back end would do through the service API):
#   hub_watch FILE FILTER      mosquitto_sub -v FILTER into FILE, returns once subscribed (pid in HUB_WATCH_PID)
#   hub_send_c2d PAYLOAD [ID]  a C2D message to the device over MQTT (QoS 1, $.mid=ID)
#   hub_send_c2d_https BODY    a C2D message into the HTTPS fixture's queue
#   hub_send_desired JSON VER  a desired-properties patch
#   hub_invoke_method NAME PAYLOAD [RID]  a direct method call; prints "TOPIC PAYLOAD" of the answer (10 s timeout)
# The stand-in does not queue C2D messages for an offline device over MQTT (IoT Hub does):
# start the receiver first and wait for it to subscribe.
set -euo pipefail
HUB_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HUB_SCRIPTS/broker.sh"

HUB_DIR=$BROKER_DIR
HUB_DEVICE=demo-device
HUB_HOST=tinyhub-local.azure-devices.net
HUB_KEY=$(printf 'tinyhub local stand-in key, not a secret' | base64 -w0)
HUB_CONNECTION_STRING="HostName=$HUB_HOST;GatewayHostName=localhost;DeviceId=$HUB_DEVICE;SharedAccessKey=$HUB_KEY"
HUB_CA=$BROKER_CA
HUB_BROKER_PORT=$BROKER_PORT
HUB_MQTT=(-h localhost -p "$BROKER_PORT" --cafile "$BROKER_CA")
HUB_PIDS=()

# A device with an X.509 identity (CA-signed: the certificate's CN is the device id).
HUB_X509_DEVICE=demo-x509-device
HUB_X509_CERT=$HUB_DIR/$HUB_X509_DEVICE.pem
HUB_X509_KEY=$HUB_DIR/$HUB_X509_DEVICE.key
standin_device_certificate "$HUB_X509_DEVICE"
HUB_X509_CONNECTION_STRING="HostName=$HUB_HOST;GatewayHostName=localhost;DeviceId=$HUB_X509_DEVICE;x509=true"

# The IoT Hub gate: the device-facing MQTT side.
HUB_GATE_LOG=$HUB_DIR/gate.jsonl
# shellcheck disable=SC2086  # HUB_GATE_ARGS is a list of words on purpose
standin_gate gate "$HUB_HOST" --device "$HUB_DEVICE=$HUB_KEY" --x509-device "$HUB_X509_DEVICE" --log "$HUB_GATE_LOG" \
  ${HUB_GATE_ARGS:-}
HUB_MQTT_PORT=$(standin_line gate 1)
HUB_GATE_CONTROL_PORT=$(standin_line gate 2)

# Twin responder.
"$HUB_SCRIPTS/hub-service.sh" localhost "$BROKER_PORT" "$BROKER_CA" "$HUB_DIR/standin.log" &
HUB_PIDS+=($!)
# hub_probe FILE TOPIC: publishes a probe on TOPIC; whether a probe has reached FILE (a subscriber's log).
hub_probe() {
  mosquitto_pub "${HUB_MQTT[@]}" -q 0 -t "$2" -n 2>/dev/null || true
  grep -q tinyhub-probe "$1" 2>/dev/null
}
retry 100 0.1 hub_probe "$HUB_DIR/standin.log" '$iothub/twin/GET/tinyhub-probe' \
  || { echo "local hub stand-in: the twin responder did not start" >&2; exit 1; }

# HTTPS device API.
HUB_WS_LOG=$HUB_DIR/websocket.jsonl
standin_https https "$HUB_HOST" "$HUB_DEVICE" "$HUB_KEY" --websocket-target-port "$HUB_MQTT_PORT" \
  --websocket-target-ca "$HUB_CA" --websocket-log "$HUB_WS_LOG"
HUB_HTTPS_PORT=$(standin_line https 1)

HUB_ENV=(IOTHUB_DEVICE_CONNECTION_STRING="$HUB_CONNECTION_STRING" IOTHUB_TRUSTED_CA_FILE="$HUB_CA"
         IOTHUB_MQTT_PORT="$HUB_MQTT_PORT" IOTHUB_HTTPS_PORT="$HUB_HTTPS_PORT")
export HUB_CONNECTION_STRING HUB_CA HUB_MQTT_PORT HUB_HTTPS_PORT HUB_DEVICE HUB_DIR HUB_GATE_LOG HUB_GATE_CONTROL_PORT HUB_WS_LOG \
  HUB_BROKER_PORT HUB_X509_DEVICE HUB_X509_CERT HUB_X509_KEY HUB_X509_CONNECTION_STRING

hub_watch() {
  local file=$1 filter=$2 probe="${2%#}tinyhub-probe"
  : >"$file"
  stdbuf -oL mosquitto_sub "${HUB_MQTT[@]}" -q 1 -v -t "$filter" >"$file" 2>/dev/null &
  HUB_WATCH_PID=$!
  HUB_PIDS+=("$HUB_WATCH_PID")
  retry 100 0.1 hub_probe "$file" "$probe" && return 0
  stop_process "$HUB_WATCH_PID"
  echo "local hub stand-in: could not subscribe to $filter" >&2
  return 1
}

hub_send_c2d() {
  mosquitto_pub "${HUB_MQTT[@]}" -q 1 -t "devices/$HUB_DEVICE/messages/devicebound/%24.mid=${2:-$RANDOM}" -m "$1"
}

hub_send_c2d_https() {
  python3 - "$HUB_HTTPS_PORT" "$HUB_CA" "$1" <<'PY'
import http.client, json, ssl, sys
port, ca, body = int(sys.argv[1]), sys.argv[2], sys.argv[3]
conn = http.client.HTTPSConnection("localhost", port, context=ssl.create_default_context(cafile=ca))
conn.request("POST", "/_fixture/c2d", json.dumps({"body": body}), {"Content-Type": "application/json"})
assert conn.getresponse().status == 200
PY
}

hub_send_desired() {
  mosquitto_pub "${HUB_MQTT[@]}" -q 0 -t "\$iothub/twin/PATCH/properties/desired/?\$version=$2" -m "$1"
}

hub_invoke_method() {
  local name=$1 payload=$2 rid=${3:-$RANDOM} file="$HUB_DIR/method-$RANDOM.out"
  hub_watch "$file" '$iothub/methods/res/#' || return 1
  local watcher=$HUB_WATCH_PID
  mosquitto_pub "${HUB_MQTT[@]}" -q 0 -t "\$iothub/methods/POST/$name/?\$rid=$rid" -m "$payload"
  retry 100 0.1 grep -q "rid=$rid" "$file" || true
  stop_process "$watcher"
  grep "rid=$rid" "$file" || { echo "local hub stand-in: no answer to method $name" >&2; return 1; }
}

stop_hub() {
  stop_process "${HUB_PIDS[@]}"
  stop_broker
}
