#!/usr/bin/env bash
# The Device Provisioning Service part of the demo (scripts/demo.sh --dps), sourced by demo.sh once
# the local hub stand-in runs and its helpers (mismatch, wait_lines, show) exist. It starts the local
# DPS stand-in (scripts/standin/dps.sh) and names the device through it instead of a connection string:
#   1. hub-telemetry with an individual enrollment: prints `provisioned localhost dps-demo-device`,
#      its telemetry reaches the assigned hub's service side, the assignment goes to a cache file;
#   2. the same again: served from the cache, no `provisioned` line and no DPS connection;
#   3. a device of an enrollment group (its key derived from the group key), and an X.509 device.
# Every step is checked against what DPS and the hub's service side saw; a mismatch exits 1.
source scripts/standin/dps.sh 2>/dev/null
echo "local DPS stand-in: localhost:$DPS_PORT (ID scope $DPS_ID_SCOPE), assigning devices to the hub $DPS_HUB_HOST:$DPS_HUB_MQTT_PORT"
# DPS_ENV without its key: the base of the group and X.509 runs.
dps_base=()
for setting in "${DPS_ENV[@]}"; do [[ $setting == IOTHUB_DPS_SYMMETRIC_KEY=* ]] || dps_base+=("$setting"); done
dps_connections() { grep -c '"event": "connect"' "$DPS_LOG" || true; }
cache=$HUB_DIR/dps-cache

echo "== hub-telemetry --count 3, the device named by DPS (individual enrollment $DPS_REGISTRATION_ID)"
hub_watch "$HUB_DIR/dps-events.out" "devices/$DPS_DEVICE_ID/messages/events/#"
out=$(env "${DPS_ENV[@]}" IOTHUB_DPS_CACHE_FILE="$cache" "$bin/hub-telemetry" --count 3)
echo "$out" | sed 's/^/    /'
[ "$out" = "$(printf 'provisioned %s %s\nsent and acknowledged: 3' "$DPS_HUB_HOST" "$DPS_DEVICE_ID")" ] \
  || mismatch "hub-telemetry through DPS printed '$out'"
[ "$(wait_lines "$HUB_DIR/dps-events.out" 3)" -eq 3 ] || mismatch "the assigned hub's service side did not see 3 messages"
registered=$(dps_connections)

echo "== hub-telemetry --count 2 again: the assignment comes from IOTHUB_DPS_CACHE_FILE"
out=$(env "${DPS_ENV[@]}" IOTHUB_DPS_CACHE_FILE="$cache" "$bin/hub-telemetry" --count 2)
echo "$out" | sed 's/^/    /'
[ "$out" = "sent and acknowledged: 2" ] || mismatch "hub-telemetry from the cache printed '$out'"
[ "$(dps_connections)" -eq "$registered" ] || mismatch "DPS was contacted although the assignment was cached"
[ "$(wait_lines "$HUB_DIR/dps-events.out" 5)" -eq 5 ] || mismatch "the assigned hub's service side did not see 5 messages"
echo "  service side of $DPS_HUB_HOST received:"
show "$HUB_DIR/dps-events.out"

echo "== hub-twin, enrollment group (device $DPS_GROUP_REGISTRATION_ID, key derived from the group key)"
out=$(env "${dps_base[@]}" IOTHUB_DPS_GROUP_KEY="$DPS_GROUP_KEY" IOTHUB_DPS_REGISTRATION_ID="$DPS_GROUP_REGISTRATION_ID" "$bin/hub-twin")
echo "$out" | sed 's/^/    /'
[ "$(sed -n 1p <<<"$out")" = "provisioned $DPS_HUB_HOST $DPS_GROUP_REGISTRATION_ID" ] || mismatch "group device: '$out'"
[[ $(sed -n 2p <<<"$out") == "twin "* ]] || mismatch "group device: no twin line"

echo "== hub-telemetry --count 1, X.509 enrollment (certificate CN $DPS_X509_REGISTRATION_ID)"
out=$(env "${dps_base[@]}" IOTHUB_DEVICE_CERT_FILE="$DPS_X509_CERT" IOTHUB_DEVICE_KEY_FILE="$DPS_X509_KEY" \
  IOTHUB_DPS_REGISTRATION_ID="$DPS_X509_REGISTRATION_ID" "$bin/hub-telemetry" --count 1)
echo "$out" | sed 's/^/    /'
[ "$out" = "$(printf 'provisioned %s %s\nsent and acknowledged: 1' "$DPS_HUB_HOST" "$DPS_X509_REGISTRATION_ID")" ] \
  || mismatch "X.509 device: '$out'"

echo "== summary (checked against DPS's record and the assigned hub's service side)"
echo "  DPS: 3 registrations (individual key, group key, X.509), each assigned to $DPS_HUB_HOST; one run served from the cache"
echo "  telemetry: 5 messages of $DPS_DEVICE_ID seen by the assigned hub's service side"
