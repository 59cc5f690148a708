#!/usr/bin/env bash
# The crash-proof outbox part of the demo (scripts/demo.sh --outbox), sourced by demo.sh once the
# local hub stand-in runs and its helpers (mismatch, wait_lines, show) exist:
#   1. hub-telemetry --count 5 with IOTHUB_OUTBOX_FILE while the stand-in's IoT Hub gate holds the
#      PUBACKs back (the hub has the messages, the device never hears so), killed with SIGKILL;
#   2. hub-telemetry --count 2 over the same file: `recovered 5`, the 5 sent again first with the
#      same message ids, then 2 new ones, exit 0 once all 7 are acknowledged;
#   3. --count 0: nothing left to send.
# Checked against the service side; a mismatch exits 1.
store=$HUB_DIR/outbox.bin
rm -f "$store"
gate() {
  python3 - "$HUB_GATE_CONTROL_PORT" "$1" <<'PY'
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as s:
    s.sendall(sys.argv[2].encode() + b"\n")
    assert b'"ok": true' in s.makefile("rb").readline()
PY
}
mids() { grep -v tinyhub-probe "$1" | sed -n 's/.*%24\.mid=\([^ &]*\).*/\1/p'; }
hub_watch "$HUB_DIR/outbox-events.out" "devices/$HUB_DEVICE/messages/events/#"

echo "== hub-telemetry --count 5 with IOTHUB_OUTBOX_FILE, PUBACKs held back, then SIGKILL"
gate '{"hold_acks": true}'
env "${HUB_ENV[@]}" IOTHUB_OUTBOX_FILE="$store" "$bin/hub-telemetry" --count 5 >/dev/null 2>&1 &
pid=$!
[ "$(wait_lines "$HUB_DIR/outbox-events.out" 5)" -ge 5 ] || mismatch "the hub did not get the 5 messages"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
gate '{"hold_acks": false}'
first=$(mids "$HUB_DIR/outbox-events.out")
echo "  the hub has 5 messages, the device saw no PUBACK: $(echo $first)"

echo "== hub-telemetry --count 2 over the same IOTHUB_OUTBOX_FILE"
out=$(env "${HUB_ENV[@]}" IOTHUB_OUTBOX_FILE="$store" "$bin/hub-telemetry" --count 2 2>"$HUB_DIR/outbox-run.err")
echo "$out" | sed 's/^/    /'
[ "$out" = "$(printf 'recovered 5\nsent and acknowledged: 2')" ] || mismatch "the restarted run printed '$out'"
[ "$(wait_lines "$HUB_DIR/outbox-events.out" 12)" -ge 12 ] || mismatch "the service side did not see 5 + 5 + 2 messages"
again=$(mids "$HUB_DIR/outbox-events.out" | sed -n 6,10p)
[ "$again" = "$first" ] || mismatch "the recovered messages went out as '$again', not '$first'"
echo "  sent again first, same ids: $(echo $again); then $(mids "$HUB_DIR/outbox-events.out" | sed -n 11,12p | tr '\n' ' ')"

echo "== hub-telemetry --count 0: nothing left in the outbox"
out=$(env "${HUB_ENV[@]}" IOTHUB_OUTBOX_FILE="$store" "$bin/hub-telemetry" --count 0 2>>"$HUB_DIR/outbox-run.err")
[ "$out" = "sent and acknowledged: 0" ] || mismatch "a third run printed '$out'"
echo "  service side received:"
show "$HUB_DIR/outbox-events.out"
