#!/usr/bin/env bash
# Starts a throw-away mosquitto on free loopback ports with a test CA made by openssl: a TLS
# listener ($BROKER_PORT) and a plain one ($BROKER_PLAIN_PORT, used by the IoT Hub gate of
# scripts/local-hub.sh).
# Usage: source scripts/local-broker.sh   (then: $BROKER_PORT, $BROKER_PLAIN_PORT, $BROKER_CA, $BROKER_DIR; stop_broker)
set -euo pipefail

BROKER_DIR=$(mktemp -d /tmp/tinyhub-broker.XXXXXX)
(
  cd "$BROKER_DIR"
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=TinyHub Test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout ca.key -out ca.pem >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" -keyout server.key -out server.csr >/dev/null 2>&1
  printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 \
    -extfile server.ext -out server.pem >/dev/null 2>&1
)
broker_free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
BROKER_PORT=$(broker_free_port)
BROKER_PLAIN_PORT=$(broker_free_port)
while [ "$BROKER_PLAIN_PORT" = "$BROKER_PORT" ]; do BROKER_PLAIN_PORT=$(broker_free_port); done
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
for _ in $(seq 1 100); do
  if python3 -c "import socket,sys
for p in ($BROKER_PORT, $BROKER_PLAIN_PORT):
    s=socket.socket(); s.settimeout(0.2)
    if s.connect_ex(('127.0.0.1',p)): sys.exit(1)" 2>/dev/null; then break; fi
  sleep 0.05
done
BROKER_CA="$BROKER_DIR/ca.pem"
export BROKER_PORT BROKER_PLAIN_PORT BROKER_CA BROKER_DIR BROKER_PID
stop_broker() { kill "$BROKER_PID" 2>/dev/null || true; wait "$BROKER_PID" 2>/dev/null || true; rm -rf "$BROKER_DIR"; }
