#!/usr/bin/env bash
# The service side of the local IoT Hub stand-in (started by scripts/standin/hub.sh): answers
# device twin requests that arrive at the local TLS mosquitto, as IoT Hub would.
#   $iothub/twin/GET/?$rid=R                       -> $iothub/twin/res/200/?$rid=R  with the twin document
#   $iothub/twin/PATCH/properties/reported/?$rid=R -> $iothub/twin/res/204/?$rid=R&$version=N (N counts patches)
# The twin document is {"desired":{"$version":1},"reported":{"$version":N}}. Topics containing
# `tinyhub-probe` are logged but not answered (hub.sh uses them to see it is subscribed).
# Usage: scripts/standin/hub-service.sh HOST PORT CAFILE [LOGFILE]   (runs until SIGTERM)
set -uo pipefail
host=$1 port=$2 ca=$3 log=${4:-/dev/null}
mqtt=(-h "$host" -p "$port" --cafile "$ca")

# One subscriber, topics only (-F %t: one line per message whatever the payload holds).
exec {requests}< <(exec stdbuf -oL mosquitto_sub "${mqtt[@]}" -i tinyhub-service-standin -q 0 -F '%t' \
  -t '$iothub/twin/GET/#' -t '$iothub/twin/PATCH/properties/reported/#')
subscriber=$!
trap 'kill "$subscriber" 2>/dev/null; wait "$subscriber" 2>/dev/null; exit 0' TERM INT
trap 'kill "$subscriber" 2>/dev/null' EXIT

reported=1
while IFS= read -r -u "$requests" topic; do
  printf '%s\n' "$topic" >>"$log"
  rid=${topic##*\$rid=}
  rid=${rid%%&*}
  case $topic in
    *tinyhub-probe*) ;;
    '$iothub/twin/GET/'*)
      mosquitto_pub "${mqtt[@]}" -q 0 -t "\$iothub/twin/res/200/?\$rid=$rid" \
        -m "{\"desired\":{\"\$version\":1},\"reported\":{\"\$version\":$reported}}" ;;
    '$iothub/twin/PATCH/properties/reported/'*)
      reported=$((reported + 1))
      mosquitto_pub "${mqtt[@]}" -q 0 -t "\$iothub/twin/res/204/?\$rid=$rid&\$version=$reported" -n ;;
  esac
done
