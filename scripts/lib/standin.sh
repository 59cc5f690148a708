# The launcher of the local stand-ins (part of scripts/lib, sourced by common.sh). Used by
# scripts/standin/hub.sh, dps.sh and proxy.sh once scripts/standin/broker.sh runs, with HUB_DIR (the
# throw-away folder: ca.pem/ca.key/server.pem/server.key), HUB_CA and the HUB_PIDS array set.
STANDIN_FIXTURES=$TINYHUB_ROOT/Tests/Fixtures

# standin_launch NAME LINES COMMAND...: starts COMMAND in the background (stdout in $HUB_DIR/NAME.out,
# stderr in $HUB_DIR/NAME.err), adds it to HUB_PIDS and waits (at most 5 s) until it has printed LINES
# lines (the ports it listens on); exits 1 with its stderr otherwise. Line N: standin_line NAME N.
standin_launch() {
  local name=$1 lines=$2
  shift 2
  : >"$HUB_DIR/$name.out" # made here: the background job may open it after the first check below
  "$@" >"$HUB_DIR/$name.out" 2>"$HUB_DIR/$name.err" </dev/null &
  HUB_PIDS+=($!)
  retry 100 0.05 standin_has_lines "$name" "$lines" && return 0
  echo "local stand-in: $name did not start" >&2
  cat "$HUB_DIR/$name.err" >&2
  exit 1
}

standin_line() { sed -n "$2p" "$HUB_DIR/$1.out"; }

# standin_has_lines NAME LINES: whether NAME has printed LINES lines.
standin_has_lines() { [ "$(wc -l <"$HUB_DIR/$1.out")" -ge "$2" ]; }

# standin_gate NAME HOST GATE-ARGS...: an IoT Hub gate (Tests/Fixtures/iothub_mqtt_gate.py) for the hub
# named HOST in front of the stand-in's mosquitto; device port: standin_line NAME 1, control: line 2.
standin_gate() {
  local name=$1 host=$2
  shift 2
  standin_launch "$name" 2 python3 "$STANDIN_FIXTURES/iothub_mqtt_gate.py" --cert "$HUB_DIR/server.pem" \
    --key "$HUB_DIR/server.key" --client-ca "$HUB_CA" --host "$host" --broker-port "$BROKER_PLAIN_PORT" \
    --exit-with-parent "$@"
}

# standin_https NAME HOST DEVICE KEY [FIXTURE-ARGS...]: the HTTPS device-API fixture
# (Tests/Fixtures/iothub_https_fixture.py) for one SAS device of the hub named HOST; port: standin_line NAME 1.
standin_https() {
  local name=$1 host=$2 device=$3 key=$4
  shift 4
  standin_launch "$name" 1 python3 "$STANDIN_FIXTURES/iothub_https_fixture.py" --cert "$HUB_DIR/server.pem" \
    --key "$HUB_DIR/server.key" --host "$host" --device "$device" --device-key "$key" "$@"
}

# standin_device_certificate CN: a device certificate and key signed by the stand-in's CA (subject
# CN, client authentication), as $HUB_DIR/CN.pem and $HUB_DIR/CN.key.
standin_device_certificate() {
  (
    cd "$HUB_DIR"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -subj "/CN=$1" \
      -keyout "$1.key" -out "$1.csr" >/dev/null 2>&1
    printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 \
      -extfile "$1.ext" -out "$1.pem" >/dev/null 2>&1
  )
}
