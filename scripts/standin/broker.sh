#!/usr/bin/env bash
# Starts a throw-away mosquitto on free loopback ports with a test CA made by openssl: a TLS
# listener ($BROKER_PORT) and a plain one ($BROKER_PLAIN_PORT, used by the IoT Hub gate of
# scripts/standin/hub.sh).
# Usage: source scripts/standin/broker.sh   (then: $BROKER_PORT, $BROKER_PLAIN_PORT, $BROKER_CA, $BROKER_DIR; stop_broker)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

BROKER_DIR=$(mktemp -d /tmp/tinyhub-broker.XXXXXX)
(
  cd "$BROKER_DIR"
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=TinyHub Test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout ca.key -out ca.pem >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" -keyout server.key -out server.csr >/dev/null 2>&1
  # 127.0.0.1 also as a DNS name: mbedTLS 2.28 matches a host only against dNSName entries, and
  # scripts/bench/telemetry.sh connects by a literal address too (no resolver).
  printf 'subjectAltName=DNS:localhost,DNS:127.0.0.1,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 \
    -extfile server.ext -out server.pem >/dev/null 2>&1
)
BROKER_PORT=$(free_port)
BROKER_PLAIN_PORT=$(free_port)
while [ "$BROKER_PLAIN_PORT" = "$BROKER_PORT" ]; do BROKER_PLAIN_PORT=$(free_port); done
cat > "$BROKER_DIR/mosquitto.conf" <<CONF
per_listener_settings false
user root
allow_anonymous true
persistence false
log_dest file $BROKER_DIR/mosquitto.log
listener $BROKER_PORT 127.0.0.1
cafile $BROKER_DIR/ca.pem
certfile $BROKER_DIR/server.pem
keyfile $BROKER_DIR/server.key
listener $BROKER_PLAIN_PORT 127.0.0.1
CONF
/usr/sbin/mosquitto -c "$BROKER_DIR/mosquitto.conf" &
BROKER_PID=$!
# Not ready in 5 s: the first client's connection fails and says so.
wait_for_ports 5 "$BROKER_PORT" "$BROKER_PLAIN_PORT" || true
BROKER_CA="$BROKER_DIR/ca.pem"
export BROKER_PORT BROKER_PLAIN_PORT BROKER_CA BROKER_DIR BROKER_PID
stop_broker() { stop_process "$BROKER_PID"; rm -rf "$BROKER_DIR"; }
