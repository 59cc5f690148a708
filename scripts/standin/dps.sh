#!/usr/bin/env bash
# A local stand-in for the Azure IoT Hub Device Provisioning Service (DPS), beside the local hub.
# Source it (it sources scripts/standin/hub.sh first unless that is already done; stop with stop_hub):
#   source scripts/standin/dps.sh; trap stop_hub EXIT
#   env "${DPS_ENV[@]}" .build-embedded-static/release/hub-telemetry --count 1   # prints `provisioned localhost dps-demo-device`
# It starts
#   - DPS: Tests/Fixtures/dps_fixture.py on a free port (MQTT and, on the same port, the HTTPS 401 +
#     Date a device reads DPS's clock from), id scope DPS_ID_SCOPE, with three enrollments:
#       individual, symmetric key   DPS_REGISTRATION_ID / DPS_SYMMETRIC_KEY          -> device DPS_DEVICE_ID
#       group, symmetric key        DPS_GROUP_KEY (any registration id; the demo uses DPS_GROUP_REGISTRATION_ID)
#       individual, X.509           DPS_X509_REGISTRATION_ID with DPS_X509_CERT / DPS_X509_KEY (CN = id, by HUB_CA)
#     each assigned to the hub `localhost` after one "assigning" status answer (retry-after 1 s);
#   - that assigned hub: a second IoT Hub gate (`--host localhost`, every device above registered with
#     its key, the group device with the key derived from the group key) in front of the same mosquitto,
#     so the service-side helpers of hub.sh see its devices, and a second HTTPS fixture for
#     DPS_DEVICE_ID (its clock check and the HTTPS transport).
# and sets
#   DPS_ENV            the settings of the examples for the individual enrollment: env "${DPS_ENV[@]}" hub-…
#                      (IOTHUB_DPS_ID_SCOPE, IOTHUB_DPS_REGISTRATION_ID, IOTHUB_DPS_SYMMETRIC_KEY, IOTHUB_DPS_HOST,
#                      IOTHUB_DPS_PORT, IOTHUB_DPS_HTTPS_PORT, IOTHUB_TRUSTED_CA_FILE, IOTHUB_MQTT_PORT, IOTHUB_HTTPS_PORT)
#   DPS_PORT DPS_CONTROL_PORT DPS_LOG DPS_CONFIG     the fixture's ports, its record (JSON lines) and config
#   DPS_HUB_HOST DPS_HUB_MQTT_PORT DPS_HUB_HTTPS_PORT DPS_HUB_GATE_LOG DPS_HUB_GATE_CONTROL_PORT   the assigned hub
#   DPS_GROUP_DEVICE_KEY   the derived key of DPS_GROUP_REGISTRATION_ID (what the hub checks)
# and prints the IOTHUB_DPS_* lines to use from another shell (on stderr).
set -euo pipefail
DPS_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ -n "${HUB_DIR:-}" ] || source "$DPS_SCRIPTS/hub.sh"

DPS_ID_SCOPE=0ne00DE5A17
DPS_HUB_HOST=localhost
DPS_REGISTRATION_ID=dps-demo-device
DPS_DEVICE_ID=dps-demo-device
DPS_SYMMETRIC_KEY=$(printf 'tinyhub local DPS enrollment key, not a secret' | base64 -w0)
DPS_GROUP_KEY=$(printf 'tinyhub local DPS group key, not a secret' | base64 -w0)
DPS_GROUP_REGISTRATION_ID=dps-group-device
DPS_GROUP_DEVICE_KEY=$(python3 -c 'import base64, hashlib, hmac, sys
print(base64.b64encode(hmac.new(base64.b64decode(sys.argv[1]), sys.argv[2].encode(), hashlib.sha256).digest()).decode())' \
  "$DPS_GROUP_KEY" "$DPS_GROUP_REGISTRATION_ID")
DPS_X509_REGISTRATION_ID=dps-x509-device
DPS_X509_CERT=$HUB_DIR/$DPS_X509_REGISTRATION_ID.pem
DPS_X509_KEY=$HUB_DIR/$DPS_X509_REGISTRATION_ID.key
standin_device_certificate "$DPS_X509_REGISTRATION_ID"

DPS_CONFIG=$HUB_DIR/dps-config.json
cat >"$DPS_CONFIG" <<JSON
{"idScope": "$DPS_ID_SCOPE", "enrollments": [
  {"registrationId": "$DPS_REGISTRATION_ID", "attestation": "symmetricKey", "primaryKey": "$DPS_SYMMETRIC_KEY",
   "assignedHub": "$DPS_HUB_HOST", "deviceId": "$DPS_DEVICE_ID", "assigningPolls": 1, "retryAfter": 1},
  {"groupId": "dps-demo-group", "attestation": "symmetricKey", "primaryKey": "$DPS_GROUP_KEY",
   "assignedHub": "$DPS_HUB_HOST", "assigningPolls": 1, "retryAfter": 1},
  {"registrationId": "$DPS_X509_REGISTRATION_ID", "attestation": "x509",
   "assignedHub": "$DPS_HUB_HOST", "assigningPolls": 1, "retryAfter": 1}]}
JSON
DPS_LOG=$HUB_DIR/dps.jsonl
standin_launch dps 2 python3 "$STANDIN_FIXTURES/dps_fixture.py" --cert "$HUB_DIR/server.pem" --key "$HUB_DIR/server.key" \
  --client-ca "$HUB_CA" --config "$DPS_CONFIG" --log "$DPS_LOG" --exit-with-parent
DPS_PORT=$(standin_line dps 1)
DPS_CONTROL_PORT=$(standin_line dps 2)

# The hub DPS assigns: named localhost (the name its TLS certificate carries), same mosquitto.
DPS_HUB_GATE_LOG=$HUB_DIR/dps-hub-gate.jsonl
standin_gate dps-hub-gate "$DPS_HUB_HOST" --device "$DPS_DEVICE_ID=$DPS_SYMMETRIC_KEY" \
  --device "$DPS_GROUP_REGISTRATION_ID=$DPS_GROUP_DEVICE_KEY" --x509-device "$DPS_X509_REGISTRATION_ID" --log "$DPS_HUB_GATE_LOG"
DPS_HUB_MQTT_PORT=$(standin_line dps-hub-gate 1)
DPS_HUB_GATE_CONTROL_PORT=$(standin_line dps-hub-gate 2)
standin_https dps-hub-https "$DPS_HUB_HOST" "$DPS_DEVICE_ID" "$DPS_SYMMETRIC_KEY"
DPS_HUB_HTTPS_PORT=$(standin_line dps-hub-https 1)

DPS_ENV=(IOTHUB_DPS_ID_SCOPE="$DPS_ID_SCOPE" IOTHUB_DPS_REGISTRATION_ID="$DPS_REGISTRATION_ID"
         IOTHUB_DPS_SYMMETRIC_KEY="$DPS_SYMMETRIC_KEY" IOTHUB_DPS_HOST=localhost IOTHUB_DPS_PORT="$DPS_PORT"
         IOTHUB_DPS_HTTPS_PORT="$DPS_PORT" IOTHUB_TRUSTED_CA_FILE="$HUB_CA"
         IOTHUB_MQTT_PORT="$DPS_HUB_MQTT_PORT" IOTHUB_HTTPS_PORT="$DPS_HUB_HTTPS_PORT")
export DPS_ID_SCOPE DPS_REGISTRATION_ID DPS_DEVICE_ID DPS_SYMMETRIC_KEY DPS_GROUP_KEY DPS_GROUP_REGISTRATION_ID \
  DPS_GROUP_DEVICE_KEY DPS_X509_REGISTRATION_ID DPS_X509_CERT DPS_X509_KEY DPS_CONFIG DPS_LOG DPS_PORT DPS_CONTROL_PORT \
  DPS_HUB_HOST DPS_HUB_MQTT_PORT DPS_HUB_HTTPS_PORT DPS_HUB_GATE_LOG DPS_HUB_GATE_CONTROL_PORT

{
  echo "local DPS stand-in: localhost:$DPS_PORT (id scope $DPS_ID_SCOPE), assigned hub localhost:$DPS_HUB_MQTT_PORT (HTTPS $DPS_HUB_HTTPS_PORT)"
  echo "  (unset IOTHUB_DEVICE_CONNECTION_STRING)"
  printf '  export %q\n' "${DPS_ENV[@]}"
} >&2
