#!/usr/bin/env bash
# The main job: builds the Embedded device binaries (-Osize, static mbedTLS) and runs them
# against a hub.
# - IOTHUB_DEVICE_CONNECTION_STRING set: hub-telemetry --count 5 against that hub (built-in
#   Azure roots unless IOTHUB_TRUSTED_CA_FILE says otherwise).
# - Not set: a local stand-in (scripts/local-hub.sh: TLS mosquitto + twin responder + HTTPS
#   fixture) it starts itself: mqtt-demo, telemetry seen at the "service" side, two C2D
#   messages, a reported-properties patch, a direct method, then telemetry and C2D over HTTPS.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
source scripts/embedded-flags.sh
swift build -c release --scratch-path .build-embedded-static --traits Embedded,StaticMbedTLS "${EMBEDDED_FLAGS[@]}" \
  >/tmp/tinyhub-demo-build.log 2>&1 || { cat /tmp/tinyhub-demo-build.log; exit 1; }
bin=.build-embedded-static/release

if [ -n "${IOTHUB_DEVICE_CONNECTION_STRING:-}" ]; then
  echo "== hub-telemetry --count 5 against the hub in IOTHUB_DEVICE_CONNECTION_STRING"
  "$bin/hub-telemetry" --count 5
  exit 0
fi

source scripts/local-hub.sh
trap stop_hub EXIT
echo "local IoT Hub stand-in: MQTT localhost:$HUB_MQTT_PORT, HTTPS localhost:$HUB_HTTPS_PORT (CA $HUB_CA)"

# Waits until FILE has a line matching PATTERN (at most 10 s).
wait_for() {
  for _ in $(seq 1 100); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "demo: timed out waiting for '$2' in $1" >&2
  return 1
}
# Shows a file's lines indented, without the stand-in's readiness probes.
show() { grep -v tinyhub-probe "$1" | sed 's/^/    /' || true; }

echo "== mqtt-demo (plain MQTT over TLS)"
MQTT_HOST=localhost MQTT_PORT=$HUB_MQTT_PORT MQTT_CA_FILE=$HUB_CA "$bin/mqtt-demo" --count "${COUNT:-5}"

echo "== hub-telemetry --count 5 --property source=demo"
hub_watch "$HUB_DIR/events.out" "devices/$HUB_DEVICE/messages/events/#"
env "${HUB_ENV[@]}" "$bin/hub-telemetry" --count 5 --property source=demo
for _ in $(seq 1 50); do [ "$(grep -vc tinyhub-probe "$HUB_DIR/events.out")" -ge 5 ] && break; sleep 0.1; done
echo "  service side received (topic with property bag, payload):"
show "$HUB_DIR/events.out"
telemetry_seen=$(grep -vc tinyhub-probe "$HUB_DIR/events.out" || true)

echo "== hub-c2d --count 2 (two C2D messages sent by the service side)"
env "${HUB_ENV[@]}" "$bin/hub-c2d" --count 2 --timeout-s 20 >"$HUB_DIR/c2d.out" 2>"$HUB_DIR/c2d.err" &
c2d=$!
wait_for "$HUB_DIR/c2d.err" subscribed
hub_send_c2d '{"command":"blink","times":3}' 1
hub_send_c2d 'plain text message' 2
c2d_rc=0; wait "$c2d" || c2d_rc=$?
cat "$HUB_DIR/c2d.err" >&2
show "$HUB_DIR/c2d.out"
[ "$c2d_rc" -eq 0 ] || { echo "hub-c2d failed (exit $c2d_rc)" >&2; exit 1; }

echo "== hub-twin --report firmware=1.0"
env "${HUB_ENV[@]}" "$bin/hub-twin" --report firmware=1.0 | sed 's/^/    /'

echo "== hub-methods --count 1 (the service side calls method 'reboot')"
env "${HUB_ENV[@]}" "$bin/hub-methods" --count 1 >"$HUB_DIR/methods.out" 2>"$HUB_DIR/methods.err" &
methods=$!
wait_for "$HUB_DIR/methods.err" subscribed
echo "  service side got the answer:"
hub_invoke_method reboot '{"delayS":5}' 42 | sed 's/^/    /'
methods_rc=0; wait "$methods" || methods_rc=$?
show "$HUB_DIR/methods.out"
[ "$methods_rc" -eq 0 ] || { echo "hub-methods failed (exit $methods_rc)" >&2; exit 1; }

echo "== over HTTPS: hub-telemetry --transport https --count 2; hub-c2d --transport https --count 1 --dev-poll-interval-s 1"
env "${HUB_ENV[@]}" "$bin/hub-telemetry" --transport https --count 2 --property source=demo
hub_send_c2d_https 'hello over HTTPS'
env "${HUB_ENV[@]}" "$bin/hub-c2d" --transport https --count 1 --timeout-s 20 --dev-poll-interval-s 1 2>/dev/null | sed 's/^/    /'

echo "== summary"
echo "  telemetry: 5 sent over MQTT, $telemetry_seen seen by the service; 2 sent over HTTPS (204 each)"
echo "  C2D: 2 over MQTT and 1 over HTTPS received and completed"
echo "  twin: read, reported firmware=1.0 (acknowledged with a new version)"
echo "  direct method: 1 answered with its payload echoed"
for e in hub-telemetry hub-c2d hub-twin hub-methods; do
  strip -o "$HUB_DIR/$e.stripped" "$bin/$e"
  printf '  %-14s %7d bytes stripped (Embedded Swift, static mbedTLS)\n' "$e" "$(stat -c %s "$HUB_DIR/$e.stripped")"
done
