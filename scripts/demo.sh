#!/usr/bin/env bash
# The main job: builds the Embedded device binaries (-Osize, static mbedTLS) and runs them
# against a hub.
# - IOTHUB_DEVICE_CONNECTION_STRING set: hub-telemetry --count 5 against that hub (built-in
#   Azure roots unless IOTHUB_TRUSTED_CA_FILE says otherwise).
# - Not set: a local stand-in (scripts/standin/hub.sh: TLS mosquitto + twin responder + HTTPS
#   fixture) it starts itself: mqtt-demo, telemetry seen at the "service" side, two C2D
#   messages, a reported-properties patch, a direct method, then telemetry and C2D over HTTPS and
#   telemetry over MQTT over WebSockets (the stand-in's HTTPS port, as IoT Hub's 443).
#   With --proxy, every hub example connects through a local CONNECT proxy (scripts/standin/proxy.sh).
#   With --dps, the device is named by a local Device Provisioning Service stand-in instead of a
#   connection string, then sends telemetry to the hub it was assigned (scripts/demo/dps.sh).
#   With --outbox, hub-telemetry is killed with messages unacknowledged and restarted over the same
#   IOTHUB_OUTBOX_FILE: they go out again first, with their ids (scripts/demo/outbox.sh).
# First installs the Debian packages it needs (install_deps).
set -euo pipefail
use_proxy=0 use_dps=0 use_outbox=0
[ "${1:-}" = "--proxy" ] && use_proxy=1
[ "${1:-}" = "--dps" ] && use_dps=1
[ "${1:-}" = "--outbox" ] && use_outbox=1
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$TINYHUB_ROOT"
install_deps
build_embedded static .build-embedded-static /tmp/tinyhub-demo-build.log
bin=.build-embedded-static/release

if [ -n "${IOTHUB_DEVICE_CONNECTION_STRING:-}" ]; then
  echo "== hub-telemetry --count 5 against the hub in IOTHUB_DEVICE_CONNECTION_STRING"
  "$bin/hub-telemetry" --count 5
  exit 0
fi

source scripts/standin/hub.sh
at_exit stop_hub
if [ "$use_proxy" = 1 ]; then
  source scripts/standin/proxy.sh
  echo "local CONNECT proxy: 127.0.0.1:$PROXY_PORT (Basic credentials); every hub example goes through it"
fi
echo "local IoT Hub stand-in: MQTT localhost:$HUB_MQTT_PORT, HTTPS localhost:$HUB_HTTPS_PORT (CA $HUB_CA)"

# Every check below compares what was observed (the examples' stdout, what the service side
# received) with what was sent; any mismatch ends the demo with exit 1.
mismatch() { echo "demo: MISMATCH: $*" >&2; exit 1; }
# Waits until FILE has a line matching PATTERN (at most 10 s).
wait_for() {
  retry 100 0.1 grep -q -- "$2" "$1" 2>/dev/null && return 0
  echo "demo: timed out waiting for '$2' in $1" >&2
  return 1
}
# Waits until FILE has at least N lines besides the stand-in's readiness probes (at most 10 s); prints the count.
wait_lines() {
  local seen=0
  for _ in $(seq 1 100); do
    seen=$(grep -vc tinyhub-probe "$1" || true)
    [ "$seen" -ge "$2" ] && break
    sleep 0.1
  done
  echo "$seen"
}
# Shows a file's lines indented, without the stand-in's readiness probes.
show() { grep -v tinyhub-probe "$1" | sed 's/^/    /' || true; }
# The HTTPS fixture's count of recorded device requests with METHOD whose path ends with SUFFIX.
https_requests() {
  python3 - "$HUB_HTTPS_PORT" "$HUB_CA" "$1" "$2" <<'PY'
import http.client, json, ssl, sys
port, ca, method, suffix = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
conn = http.client.HTTPSConnection("localhost", port, context=ssl.create_default_context(cafile=ca))
conn.request("GET", "/_fixture/requests")
response = conn.getresponse()
assert response.status == 200
print(sum(1 for r in json.loads(response.read()) if r["method"] == method and r["path"].endswith(suffix)))
PY
}

if [ "$use_dps" = 1 ]; then source scripts/demo/dps.sh; exit 0; fi
if [ "$use_outbox" = 1 ]; then source scripts/demo/outbox.sh; exit 0; fi

count=${COUNT:-5}
echo "== mqtt-demo --count $count (plain MQTT over TLS)"
MQTT_HOST=localhost MQTT_PORT=$HUB_BROKER_PORT MQTT_CA_FILE=$HUB_CA "$bin/mqtt-demo" --count "$count" | tee "$HUB_DIR/mqtt-demo.out"
grep -qx "published $count, acknowledged $count, received back $count" "$HUB_DIR/mqtt-demo.out" \
  || mismatch "mqtt-demo did not report $count published, acknowledged and received back"
[ "$(grep -c '^received: {"seq":[0-9]*}$' "$HUB_DIR/mqtt-demo.out")" -eq "$count" ] || mismatch "mqtt-demo: not $count messages received back"

echo "== hub-telemetry --count 5 --property source=demo"
hub_watch "$HUB_DIR/events.out" "devices/$HUB_DEVICE/messages/events/#"
telemetry_out=$(env "${HUB_ENV[@]}" "$bin/hub-telemetry" --count 5 --property source=demo)
echo "    $telemetry_out"
[ "$telemetry_out" = "sent and acknowledged: 5" ] || mismatch "hub-telemetry printed '$telemetry_out'"
telemetry_seen=$(wait_lines "$HUB_DIR/events.out" 5)
echo "  service side received (topic with property bag, payload):"
show "$HUB_DIR/events.out"
[ "$telemetry_seen" -eq 5 ] || mismatch "the service side saw $telemetry_seen telemetry messages, 5 were sent"
# Message i: topic devices/<id>/messages/events/ with $.mid and source=demo in its property bag, payload {"seq":i,...}.
i=0
while read -r topic payload; do
  i=$((i + 1))
  [[ $topic == "devices/$HUB_DEVICE/messages/events/"* ]] || mismatch "telemetry $i on topic $topic"
  bag="&${topic#"devices/$HUB_DEVICE/messages/events/"}&"
  [[ $bag == *"&source=demo&"* && $bag =~ \&(%24|\$)\.mid=[0-9a-f]+-$i\& ]] \
    || mismatch "telemetry $i: property bag '$bag' lacks source=demo or message id <run>-$i"
  [[ $payload =~ ^\{\"seq\":$i,\"time\":[0-9]+\}$ ]] || mismatch "telemetry $i: payload '$payload'"
done < <(grep -v tinyhub-probe "$HUB_DIR/events.out")

echo "== hub-c2d --count 2 (two C2D messages sent by the service side)"
c2d_sent=('{"command":"blink","times":3}' 'plain text message')
env "${HUB_ENV[@]}" "$bin/hub-c2d" --count 2 --timeout-s 20 >"$HUB_DIR/c2d.out" 2>"$HUB_DIR/c2d.err" &
c2d=$!
wait_for "$HUB_DIR/c2d.err" subscribed
hub_send_c2d "${c2d_sent[0]}" 1
hub_send_c2d "${c2d_sent[1]}" 2
c2d_rc=0; wait "$c2d" || c2d_rc=$?
cat "$HUB_DIR/c2d.err" >&2
show "$HUB_DIR/c2d.out"
[ "$c2d_rc" -eq 0 ] || mismatch "hub-c2d failed (exit $c2d_rc)"
[ "$(cat "$HUB_DIR/c2d.out")" = "$(printf 'c2d %s\n' "${c2d_sent[@]}")" ] || mismatch "hub-c2d printed other lines than the two sent"

echo "== hub-twin --report firmware=1.0"
hub_watch "$HUB_DIR/reported.out" '$iothub/twin/PATCH/properties/reported/#'
env "${HUB_ENV[@]}" "$bin/hub-twin" --report firmware=1.0 >"$HUB_DIR/twin.out"
show "$HUB_DIR/twin.out"
[ "$(wc -l <"$HUB_DIR/twin.out")" -eq 2 ] || mismatch "hub-twin printed $(wc -l <"$HUB_DIR/twin.out") lines, not 2"
twin_line=$(sed -n 1p "$HUB_DIR/twin.out")
[[ $twin_line =~ ^twin\ \{\"desired\":\{\"\$version\":1\},\"reported\":\{\"\$version\":([0-9]+)\}\}$ ]] \
  || mismatch "hub-twin's first line is not the stand-in's twin: '$twin_line'"
twin_version=${BASH_REMATCH[1]}
[ "$(sed -n 2p "$HUB_DIR/twin.out")" = "reported version $((twin_version + 1))" ] \
  || mismatch "hub-twin's second line is not 'reported version $((twin_version + 1))'"
[ "$(wait_lines "$HUB_DIR/reported.out" 1)" -eq 1 ] || mismatch "the service side did not see exactly one reported patch"
grep -v tinyhub-probe "$HUB_DIR/reported.out" | grep -q ' {"firmware":"1.0"}$' || mismatch "the reported patch is not {\"firmware\":\"1.0\"}"

echo "== hub-methods --count 1 (the service side calls method 'reboot')"
method_payload='{"delayS":5}'
env "${HUB_ENV[@]}" "$bin/hub-methods" --count 1 >"$HUB_DIR/methods.out" 2>"$HUB_DIR/methods.err" &
methods=$!
wait_for "$HUB_DIR/methods.err" subscribed
method_answer=$(hub_invoke_method reboot "$method_payload" 42) || mismatch "no answer to method reboot"
methods_rc=0; wait "$methods" || methods_rc=$?
show "$HUB_DIR/methods.out"
echo "  service side got the answer:"
echo "    $method_answer"
[ "$methods_rc" -eq 0 ] || mismatch "hub-methods failed (exit $methods_rc)"
[ "$(cat "$HUB_DIR/methods.out")" = "method reboot $method_payload" ] || mismatch "hub-methods printed '$(cat "$HUB_DIR/methods.out")'"
# The answer: status 200, the call's request id, the payload echoed byte for byte; nothing else.
[ "$method_answer" = "\$iothub/methods/res/200/?\$rid=42 $method_payload" ] \
  || mismatch "the method answer is not status 200 with rid 42 and the payload echoed"

echo "== over HTTPS: hub-telemetry --transport https --count 2; hub-c2d --transport https --count 1 --dev-poll-interval-s 1"
posts_before=$(https_requests POST /messages/events)
https_out=$(env "${HUB_ENV[@]}" "$bin/hub-telemetry" --transport https --count 2 --property source=demo)
echo "    $https_out"
[ "$https_out" = "sent and acknowledged: 2" ] || mismatch "hub-telemetry over HTTPS printed '$https_out'"
https_seen=$(( $(https_requests POST /messages/events) - posts_before ))
[ "$https_seen" -eq 2 ] || mismatch "the HTTPS fixture received $https_seen telemetry POSTs, 2 were sent"
hub_send_c2d_https 'hello over HTTPS'
deletes_before=$(https_requests DELETE "")
https_c2d=$(env "${HUB_ENV[@]}" "$bin/hub-c2d" --transport https --count 1 --timeout-s 20 --dev-poll-interval-s 1 2>/dev/null)
echo "    $https_c2d"
[ "$https_c2d" = "c2d hello over HTTPS" ] || mismatch "hub-c2d over HTTPS printed '$https_c2d'"
https_completed=$(( $(https_requests DELETE "") - deletes_before ))
[ "$https_completed" -eq 1 ] || mismatch "$https_completed C2D messages completed over HTTPS, 1 was received"

echo "== over WebSockets on the HTTPS port: hub-telemetry --transport mqtt-ws --count 2"
hub_watch "$HUB_DIR/ws-events.out" "devices/$HUB_DEVICE/messages/events/#"
upgrades_before=$(grep -c '"event": "upgrade", "accepted": true' "$HUB_WS_LOG" 2>/dev/null || true)
ws_out=$(env "${HUB_ENV[@]}" "$bin/hub-telemetry" --transport mqtt-ws --count 2 --property source=demo-ws)
echo "    $ws_out"
[ "$ws_out" = "sent and acknowledged: 2" ] || mismatch "hub-telemetry over WebSockets printed '$ws_out'"
ws_seen=$(wait_lines "$HUB_DIR/ws-events.out" 2)
[ "$ws_seen" -eq 2 ] || mismatch "the service side saw $ws_seen telemetry messages over WebSockets, 2 were sent"
grep -v tinyhub-probe "$HUB_DIR/ws-events.out" | grep -q 'source=demo-ws' || mismatch "telemetry over WebSockets lacks source=demo-ws"
ws_upgrades=$(( $(grep -c '"event": "upgrade", "accepted": true' "$HUB_WS_LOG" || true) - ${upgrades_before:-0} ))
[ "$ws_upgrades" -eq 1 ] || mismatch "$ws_upgrades WebSocket upgrades on the HTTPS port, 1 expected"

echo "== summary (every line below was checked against what the service side saw)"
echo "  mqtt-demo: $count published, acknowledged and received back"
echo "  telemetry: 5 sent over MQTT, $telemetry_seen seen by the service with seq 1..5 and their properties;" \
     "2 sent over HTTPS, $https_seen accepted by the fixture; 2 over MQTT over WebSockets (port $HUB_HTTPS_PORT)," \
     "$ws_seen seen by the service"
echo "  C2D: ${#c2d_sent[@]} sent over MQTT and printed as sent; 1 over HTTPS printed and completed ($https_completed DELETE)"
echo "  twin: read (reported version $twin_version), reported firmware=1.0, acknowledged as version $((twin_version + 1))"
echo "  direct method: answered with status 200 and its payload echoed ($method_payload)"
if [ "$use_proxy" = 1 ]; then
  tunnels=$(grep -c '"status": 200' "$PROXY_LOG" || true)
  # 4 MQTT runs, 2 HTTPS runs and 1 WebSocket run above: at least one tunnel each.
  [ "$tunnels" -ge 7 ] || mismatch "the proxy opened $tunnels tunnels, fewer than the 7 example runs"
  refused=$(grep -vc '"status": 200' "$PROXY_LOG" || true)
  [ "$refused" -eq 0 ] || mismatch "the proxy refused $refused requests"
  echo "  proxy: $tunnels CONNECT tunnels opened with credentials, none refused"
fi
for e in hub-telemetry hub-c2d hub-twin hub-methods; do
  stripped=$(stripped_size "$bin/$e" "$HUB_DIR/$e.stripped")
  printf '  %-14s %7d bytes stripped (Embedded Swift, static mbedTLS)\n' "$e" "$stripped"
done
