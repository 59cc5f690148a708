#!/usr/bin/env python3
"""The device-facing side of the Azure IoT Hub Device Provisioning Service (DPS), for TinyHub's tests.

Python 3 standard library only. A TLS server on 127.0.0.1 (port 0 = any free port) that a device
connects to as it would to `global.azure-devices-provisioning.net:8883`. It plays the DPS MQTT
protocol as Microsoft documents it ("Communicate with DPS using the MQTT protocol") and checks every
packet; it also answers HTTPS requests on the same port (see "Clock") because DPS serves both.

Stdout: line 1 = the device port, line 2 = the control port (also written to --port-file, atomically).

CONNECT (refused with CONNACK 5 and a recorded reason, unless noted):
  - protocol "MQTT" level 4 (else CONNACK 1, reason protocol-level);
  - user name `{idScope}/registrations/{registrationId}/api-version=2019-03-31`, optionally followed by
    `&ClientVersion={percent-encoded text}` and nothing else (reason username); the id scope must be the
    config's (reason unknown-scope); the client id must be the registration id (reason client-id);
  - symmetric key: password `SharedAccessSignature sr=…&sig=…&se=…&skn=registration` (any field order),
    `sr` percent-decoding to `{idScope}/registrations/{registrationId}`, `skn` exactly `registration`,
    `se` later than the fixture's clock (real clock + --clock-offset-s), `sig` =
    base64(HMAC-SHA256(base64decode(key), literal sr + "\\n" + literal se)). The key is the individual
    enrollment's, or for an enrollment group the device key the fixture derives itself:
    base64(HMAC-SHA256(base64decode(groupKey), registrationId)) (groups are tried in config order);
    reasons token-format, skn, resource-mismatch, expired, signature-mismatch, unknown-registration;
  - X.509: a client certificate (verified against --client-ca by TLS) whose subject CN is the
    registration id, and no password (an empty one is tolerated); reasons x509-no-certificate,
    x509-subject-mismatch, x509-password;
  - an enrollment whose "connect" is "refuse" is answered with CONNACK 5 (reason enrollment-refused).
  DPS ignores clean session (never persistent): CONNACK session-present is always 0.

After CONNECT:
  - SUBSCRIBE `$dps/registrations/res/#` (QoS 0 or 1; QoS 2 is granted 1); any other filter is granted 0x80.
  - PUBLISH (QoS 0 or 1; QoS 1 is acknowledged with PUBACK):
      `$dps/registrations/PUT/iotdps-register/?$rid={rid}` body `{"registrationId": id[, "payload": {...}]}`
      `$dps/registrations/GET/iotdps-get-operationstatus/?$rid={rid}&operationId={operationId}` (empty body)
    Anything else is a violation (recorded, connection closed). Answers go to
    `$dps/registrations/res/{status}/?$rid={rid}[&retry-after={s}]` with the subscription's QoS (at most 1):
      register           202 {"operationId", "status": "assigning"} (a new operation; retry-after as configured)
      status, assigning  202 {"operationId", "status": "assigning", "registrationState": {"registrationId", "status"}}
      status, done       200 {"operationId", "status", "registrationState": {"registrationId", "createdDateTimeUtc",
                             "assignedHub", "deviceId", "status", "substatus", "lastUpdatedDateTimeUtc", "etag"}}
                         (failed/disabled: "errorCode", "errorMessage" instead of assignedHub/deviceId)
      throttled          429 {"errorCode": 429001, "trackingId", "message", "timestampUtc"} with retry-after
      unknown operation  404 {"errorCode": 404201, ...}; a register body naming another id: 400 {"errorCode": 400004, ...}
  - PINGREQ -> PINGRESP, PUBACK accepted, DISCONNECT closes. Anything else: violation.
  - Retry-after: every 202 or 429 for a registration sets when its next request may come (the value
    sent, or 3 s when the topic has none, as DPS clients default). A register or status request that
    arrives earlier, on any connection, is recorded with "early": true and counted (a protocol
    violation the tests assert on); it is still answered.

WebSockets (DPS serves MQTT over WebSockets on 443, where it serves HTTPS): an HTTP request
`GET /$iothub/websocket` is checked as IoT Hub's endpoint checks it (websocket_bridge.check_upgrade:
`?iothub-no-client-cert=true` for keys, no query and a verified client certificate for X.509, subprotocol
`mqtt`, version 13, key) and recorded (event "websocket-upgrade"); once answered 101 the connection is an
MQTT session as above, its bytes in WebSocket frames (device frames checked by websocket_bridge.FrameReader:
a violation is recorded and answered with close 1002; pings answered; a close answered with its status,
recorded as "websocket-close"); answers go in one binary frame per packet.

Clock: the first byte a client sends after the TLS handshake tells MQTT (0x10, CONNECT) from HTTP (an
ASCII letter). Any other HTTP request is answered `401 Unauthorized` with a `Date` header from the fixture's
clock (real + offset) and a DPS-style JSON error body, then the connection is closed: that is how a
device reads DPS's time to check its own clock before minting a token again.

Config (--config FILE, JSON):
  {"idScope": "0ne00000001",
   "enrollments": [
     {"registrationId": "dev-1",                 individual enrollment (or "groupId": "g1" for a group;
                                                 optional "registrationIds": [...] limits the group)
      "attestation": "symmetricKey",             or "x509"
      "primaryKey": "<base64>",                  symmetric key (a group's key for a group); optional "secondaryKey"
      "assignedHub": "myhub.azure-devices.net",  the hub given on success
      "deviceId": "dev-1",                       default: the registration id
      "outcome": "assigned",                     or "failed" / "disabled"
      "errorCode": 400209, "errorMessage": "…",  for failed/disabled (defaults given below)
      "assigningPolls": 0,                       status requests answered 202 assigning before the final answer
      "retryAfter": 1,                           retry-after on 202s (null: none, the device waits 3 s)
      "throttle": 0, "throttleRetryAfter": 2,    the first N requests (register or status) answered 429
      "connect": "accept"}                       or "refuse": every CONNECT refused (CONNACK 5)
   ]}
  Throttle counters and operations live as long as the fixture (or until {"reset": true}).

Record (--log FILE): one JSON object per line with `seq`, `conn` (connection number) and `event`:
  connect     client_id, username, password, x509_subject_cn, sas ({sr, se, skn} or null), accepted, code,
              reason, detail, enrollment (registration id or group id matched, or null)
  subscribe   packet_id, filters, granted
  request     kind (register, status), topic, qos, rid, registration_id, operation_id, operation_ok,
              body (text), early, due_in_s (how much too early, if early)
  answer      topic, status, body (text)
  puback      (dir up) packet_id     pingreq     disconnect
  http        method, path, date     violation reason, detail     tls-error detail
  close       reason (client-closed, violation, refused, disconnect, http, error, no-connect)

Control port (127.0.0.1, one JSON object per line in, one JSON line out):
  {"clock_offset_s": S}   move the fixture's clock
  {"reset": true}         forget operations, retry-after dues and throttle counts; counters to 0
  {"stats": true}         (every reply carries these) connections, mqtt, http, accepted, refused,
                          registers, status_requests, early, wrong_operation
"""
import argparse
import base64
import binascii
import email.utils
import hashlib
import hmac
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import websocket_bridge  # noqa: E402  (MQTT over WebSockets on the same port)
from iothub_mqtt_gate import (Connection as GateConnection, PacketReader, Refusal, Violation,  # noqa: E402
                              exit_with_parent, open_listeners, read_binary, read_text, read_u16, serve_control,
                              server_context)

API_VERSION = "2019-03-31"
RESPONSE_FILTER = "$dps/registrations/res/#"
REGISTER = re.compile(r"\$dps/registrations/PUT/iotdps-register/\?\$rid=([^&/]+)\Z")
STATUS = re.compile(r"\$dps/registrations/GET/iotdps-get-operationstatus/\?\$rid=([^&/]+)&operationId=([^&/]+)\Z")
DEFAULT_RETRY_AFTER = 3
MAX_PACKET = 64 * 1024
ERRORS = {"failed": (400209, "Custom allocation failed with status code: 400"),
          "disabled": (401003, "The enrollment is disabled.")}


def utc(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + ".%07dZ" % int((seconds % 1) * 10_000_000)


def derive_key(group_key, registration_id):
    """The device key DPS expects for a device of a symmetric-key enrollment group."""
    return hmac.new(base64.b64decode(group_key), registration_id.encode(), hashlib.sha256).digest()


class DPS:
    """Config, clock, enrollment state, counters and the record file, shared by all connections."""

    def __init__(self, args, config):
        self.args = args
        self.scope = config["idScope"]
        self.enrollments = config["enrollments"]
        self.lock = threading.Lock()
        self.clock_offset = args.clock_offset_s
        self.seq = 0
        self.sessions = 0
        self.log = open(args.log, "a", encoding="utf-8") if args.log else None
        self.reset()

    def reset(self):
        self.operations = {}   # operationId -> {"registration_id", "enrollment", "polls_left", "created"}
        self.due = {}          # registration id -> monotonic time before which no request may come
        self.throttled = {}    # enrollment key -> 429s given
        self.counts = dict(connections=0, mqtt=0, http=0, websocket=0, accepted=0, refused=0, registers=0, status_requests=0,
                           early=0, wrong_operation=0)

    def now(self):
        with self.lock:
            return time.time() + self.clock_offset

    def count(self, name):
        with self.lock:
            self.counts[name] += 1

    def record(self, conn, event, **fields):
        with self.lock:
            self.seq += 1
            entry = {"seq": self.seq, "conn": conn, "event": event}
            entry.update(fields)
            if self.log:
                self.log.write(json.dumps(entry, ensure_ascii=False) + "\n")
                self.log.flush()

    # -- enrollments ------------------------------------------------------------------------------

    def candidates(self, registration_id):
        """The individual enrollment for this id, or else every group that admits it."""
        for enrollment in self.enrollments:
            if enrollment.get("registrationId") == registration_id:
                return [enrollment]
        return [e for e in self.enrollments if "groupId" in e
                and registration_id in e.get("registrationIds", [registration_id])]

    def keys(self, enrollment, registration_id):
        keys = [enrollment[k] for k in ("primaryKey", "secondaryKey") if enrollment.get(k)]
        if "groupId" in enrollment:
            return [derive_key(k, registration_id) for k in keys]
        return [base64.b64decode(k) for k in keys]

    def authenticate(self, registration_id, password, subject_cn, entry):
        """The enrollment that admits this CONNECT; raises Refusal."""
        candidates = self.candidates(registration_id)
        certificate = [e for e in candidates if e.get("attestation") == "x509"]
        symmetric = [e for e in candidates if e.get("attestation", "symmetricKey") == "symmetricKey"]
        if subject_cn is not None and not password and certificate:
            if subject_cn != registration_id:
                raise Refusal("x509-subject-mismatch", "certificate CN %r is not the registration id %r"
                              % (subject_cn, registration_id))
            return certificate[0]
        if certificate and not symmetric:
            if password:
                raise Refusal("x509-password", "X.509 enrollment %r: the device sent a password" % registration_id)
            raise Refusal("x509-no-certificate", "X.509 enrollment %r: no client certificate" % registration_id)
        if not symmetric:
            raise Refusal("unknown-registration", "no enrollment admits registration id %r" % registration_id)
        fields = self.check_token(password, registration_id, entry)
        for enrollment in symmetric:
            if any(hmac.compare_digest(fields["sig"], hmac.new(key, (fields["sr"] + "\n" + fields["se"]).encode(),
                                                               hashlib.sha256).digest())
                   for key in self.keys(enrollment, registration_id)):
                return enrollment
        raise Refusal("signature-mismatch", "sig is not HMAC-SHA256 of sr + \\n + se with the key of any enrollment "
                      "admitting %r" % registration_id)

    def check_token(self, password, registration_id, entry):
        if password is None:
            raise Refusal("token-format", "no password (a symmetric-key enrollment needs a SAS token)")
        token = password.decode("utf-8", "replace")
        head = "SharedAccessSignature "
        if not token.startswith(head):
            raise Refusal("token-format", "password does not start with %r" % head)
        fields = {}
        for part in token[len(head):].split("&"):
            name, has_value, value = part.partition("=")
            if not has_value or name in fields or name not in ("sr", "sig", "se", "skn"):
                raise Refusal("token-format", "token field %r (unknown, repeated or without '=')" % part)
            fields[name] = value
        entry["sas"] = {"sr": fields.get("sr"), "se": fields.get("se"), "skn": fields.get("skn")}
        if fields.keys() != {"sr", "sig", "se", "skn"}:
            raise Refusal("token-format", "token lacks sr, sig, se or skn")
        if fields["skn"] != "registration":
            raise Refusal("skn", "skn=%r; DPS device tokens use skn=registration" % fields["skn"])
        resource = "%s/registrations/%s" % (self.scope, registration_id)
        if urllib.parse.unquote(fields["sr"]) != resource:
            raise Refusal("resource-mismatch", "sr %r does not decode to %r" % (fields["sr"], resource))
        if not re.fullmatch(r"[0-9]{1,12}", fields["se"]):
            raise Refusal("token-format", "se %r is not decimal seconds" % fields["se"])
        now = self.now()
        if int(fields["se"]) <= now:
            raise Refusal("expired", "se %s is not after the fixture's clock %d" % (fields["se"], int(now)))
        try:
            fields["sig"] = base64.b64decode(urllib.parse.unquote(fields["sig"]), validate=True)
        except (binascii.Error, ValueError):
            raise Refusal("token-format", "sig %r is not URL-encoded base64" % fields["sig"])
        return fields

    # -- requests -----------------------------------------------------------------------------------

    def check_due(self, registration_id, entry):
        """Marks the request early if it came before the retry-after last given to this registration."""
        with self.lock:
            due = self.due.get(registration_id)
            left = None if due is None else due - time.monotonic()
            entry["early"] = left is not None and left > 0
            if entry["early"]:
                self.counts["early"] += 1
                entry["due_in_s"] = round(left, 3)

    def set_due(self, registration_id, retry_after):
        with self.lock:
            self.due[registration_id] = time.monotonic() + (DEFAULT_RETRY_AFTER if retry_after is None else retry_after)

    def take_throttle(self, enrollment):
        key = enrollment.get("registrationId") or "group:" + enrollment["groupId"]
        with self.lock:
            given = self.throttled.get(key, 0)
            if given >= enrollment.get("throttle", 0):
                return False
            self.throttled[key] = given + 1
            return True

    def throttled_answer(self, enrollment, registration_id):
        retry = enrollment.get("throttleRetryAfter", 2)
        self.set_due(registration_id, retry)
        return 429, retry, {"errorCode": 429001, "trackingId": str(uuid.uuid4()),
                            "message": "Operations are being throttled for this tenant.", "timestampUtc": utc(self.now())}

    def register(self, enrollment, registration_id, body):
        """(status, retry-after or None, body) for a register request."""
        try:
            request = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, ValueError):
            request = None
        if not isinstance(request, dict) or request.get("registrationId") != registration_id:
            return 400, None, {"errorCode": 400004, "trackingId": str(uuid.uuid4()),
                               "message": "The registrationId in the body is not the connection's registration id.",
                               "timestampUtc": utc(self.now())}
        if self.take_throttle(enrollment):
            return self.throttled_answer(enrollment, registration_id)
        operation_id = "4.%s.%s" % (uuid.uuid4().hex[:16], uuid.uuid4())
        with self.lock:
            self.operations[operation_id] = {"registration_id": registration_id, "enrollment": enrollment,
                                             "polls_left": enrollment.get("assigningPolls", 0),
                                             "created": time.time() + self.clock_offset}
        retry = enrollment.get("retryAfter", 1)
        self.set_due(registration_id, retry)
        return 202, retry, {"operationId": operation_id, "status": "assigning"}

    def status(self, enrollment, registration_id, operation_id):
        with self.lock:
            operation = self.operations.get(operation_id)
        if operation is None or operation["registration_id"] != registration_id:
            self.count("wrong_operation")
            return 404, None, {"errorCode": 404201, "trackingId": str(uuid.uuid4()),
                               "message": "Operation not found.", "timestampUtc": utc(self.now())}
        if self.take_throttle(enrollment):
            return self.throttled_answer(enrollment, registration_id)
        with self.lock:
            assigning = operation["polls_left"] > 0
            if assigning:
                operation["polls_left"] -= 1
        if assigning:
            retry = enrollment.get("retryAfter", 1)
            self.set_due(registration_id, retry)
            return 202, retry, {"operationId": operation_id, "status": "assigning",
                                "registrationState": {"registrationId": registration_id, "status": "assigning"}}
        outcome = enrollment.get("outcome", "assigned")
        state = {"registrationId": registration_id, "createdDateTimeUtc": utc(operation["created"])}
        if outcome == "assigned":
            state.update(assignedHub=enrollment["assignedHub"], deviceId=enrollment.get("deviceId", registration_id),
                         status="assigned", substatus="initialAssignment")
        else:
            code, message = ERRORS[outcome]
            state.update(status=outcome, errorCode=enrollment.get("errorCode", code),
                         errorMessage=enrollment.get("errorMessage", message))
        now = self.now()
        state.update(lastUpdatedDateTimeUtc=utc(now), etag='"%s"' % uuid.uuid4().hex[:16])
        return 200, None, {"operationId": operation_id, "status": outcome, "registrationState": state}


class Session:
    """One TLS connection: MQTT (a device) or HTTP (a clock check)."""

    def __init__(self, dps, sock, number):
        self.dps, self.sock, self.number = dps, sock, number
        self.tls = None
        self.registration_id = None
        self.enrollment = None
        self.granted = None
        self.reader = PacketReader(MAX_PACKET)

    def record(self, event, **fields):
        self.dps.record(self.number, event, **fields)

    def run(self):
        try:
            self.serve()
        except Exception as error:  # a fixture bug must not kill the fixture
            self.record("close", reason="error", detail=repr(error))
        finally:
            try:
                (self.tls or self.sock).close()
            except OSError:
                pass

    def serve(self):
        self.sock.settimeout(10)
        try:
            self.tls = self.dps.context.wrap_socket(self.sock, server_side=True)
        except (ssl.SSLError, OSError) as error:
            self.record("tls-error", detail=str(error))
            return
        self.tls.settimeout(self.dps.args.connect_timeout_s)
        try:
            first = self.tls.recv(65536)
        except (socket.timeout, ssl.SSLError, OSError):
            self.record("close", reason="no-connect")
            return
        if not first:
            self.record("close", reason="client-closed")
            return
        if chr(first[0]).isalpha():
            if first.startswith(b"GET /$iothub/websocket"):
                first = self.websocket(first)
                if first is None:
                    return
            else:
                self.dps.count("http")
                return self.http(first)
        self.dps.count("mqtt")
        self.tls.settimeout(None)
        self.mqtt(first)
        if isinstance(self.tls, WebSocketStream):
            self.tls.finish()

    def mqtt(self, first):
        data = first
        try:
            while data:
                for kind_flags, body, raw in self.reader.feed(data):
                    if self.packet(kind_flags >> 4, kind_flags & 0x0F, body) == "disconnect":
                        self.record("close", reason="disconnect")
                        return
                data = self.tls.recv(65536)
            self.record("close", reason="client-closed")
        except Refusal as refusal:
            self.dps.count("refused")
            GateConnection.refuse(self, refusal.code)
            self.record("close", reason="refused")
        except Violation as violation:
            self.record("violation", reason=violation.reason, detail=violation.detail)
            self.record("close", reason="violation")
        except (ssl.SSLError, OSError) as error:
            self.record("close", reason="client-closed", detail=str(error))

    # -- MQTT over WebSockets ------------------------------------------------------------------------

    def websocket(self, data):
        """Checks and answers an upgrade request; returns the first MQTT bytes (maybe empty) with
        `self.tls` replaced by the framed stream, or None when the upgrade was refused."""
        while b"\r\n\r\n" not in data and len(data) < websocket_bridge.HEAD_LIMIT:
            more = self.tls.recv(4096)
            if not more:
                self.record("close", reason="client-closed")
                return None
            data += more
        head, _, rest = data.partition(b"\r\n\r\n")
        parts, headers = websocket_bridge.parse_head(head.decode("latin-1"))
        if len(parts) != 3:
            parts = ["GET", "/", "HTTP/1.0"]
        status, reason, details = websocket_bridge.check_upgrade(
            parts[0], parts[1], parts[2], headers, self.tls.getpeercert() is not None, bool(self.dps.args.client_ca))
        self.dps.count("websocket")
        self.record("websocket-upgrade", accepted=status == 101, status=status, reason=reason, **details)
        self.tls.sendall(websocket_bridge.upgrade_answer(status, headers.get("sec-websocket-key", "")))
        if status != 101:
            self.record("close", reason="websocket-refused")
            return None
        self.tls = WebSocketStream(self.tls, self)
        return self.tls.unframe(rest) if rest else self.tls.recv(65536)

    # -- HTTP: the clock check ----------------------------------------------------------------------

    def http(self, data):
        while b"\r\n\r\n" not in data and len(data) < 16384:
            try:
                more = self.tls.recv(4096)
            except (socket.timeout, ssl.SSLError, OSError):
                more = b""
            if not more:
                break
            data += more
        request_line = data.split(b"\r\n", 1)[0].decode("latin-1")
        method, _, rest = request_line.partition(" ")
        path = rest.rpartition(" ")[0] or rest
        now = self.dps.now()
        date = email.utils.formatdate(now, usegmt=True)
        body = json.dumps({"errorCode": 401002, "trackingId": str(uuid.uuid4()),
                           "message": "The request requires authentication.", "timestampUtc": utc(now)}).encode()
        head = ("HTTP/1.1 401 Unauthorized\r\nDate: %s\r\nContent-Type: application/json; charset=utf-8\r\n"
                "Content-Length: %d\r\nConnection: close\r\n\r\n" % (date, len(body))).encode()
        self.record("http", method=method, path=path, date=date)
        try:
            self.tls.sendall(head + body)
        except (ssl.SSLError, OSError):
            pass
        self.record("close", reason="http")

    # -- MQTT ---------------------------------------------------------------------------------------

    def packet(self, kind, flags, body):
        if self.registration_id is None:
            if kind != 1:
                raise Violation("protocol", "first packet is type %d, not CONNECT" % kind)
            return self.connect(flags, body)
        if kind == 3:
            return self.publish(flags, body)
        if kind == 8:
            return self.subscribe(flags, body)
        if kind == 4:
            self.record("puback", dir="up", packet_id=read_u16(body, 0)[0])
        elif kind == 12:
            self.record("pingreq")
            self.send(bytes([0xD0, 0x00]))
        elif kind == 14:
            self.record("disconnect")
            return "disconnect"
        else:
            raise Violation("protocol", "packet type %d: DPS does not take it here" % kind)

    def send(self, data):
        self.tls.sendall(data)

    def connect(self, flags, body):
        name, pos = read_text(body, 0)
        if flags != 0 or name != "MQTT" or pos + 4 > len(body):
            raise Violation("protocol", "CONNECT flags %d, protocol name %r" % (flags, name))
        level, connect_flags = body[pos], body[pos + 1]
        keep_alive, pos = read_u16(body, pos + 2)
        client_id, pos = read_text(body, pos)
        if connect_flags & 0x04:
            _, pos = read_text(body, pos)
            _, pos = read_binary(body, pos)
        username = password = None
        if connect_flags & 0x80:
            username, pos = read_text(body, pos)
        if connect_flags & 0x40:
            password, pos = read_binary(body, pos)
        if pos != len(body):
            raise Violation("malformed", "%d bytes after the CONNECT payload" % (len(body) - pos))
        subject_cn = None
        for rdn in (self.tls.getpeercert() or {}).get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    subject_cn = value
        entry = {"client_id": client_id, "username": username, "keep_alive": keep_alive,
                 "clean_session": bool(connect_flags & 0x02),
                 "password": None if password is None else password.decode("utf-8", "replace"),
                 "x509_subject_cn": subject_cn, "sas": None}
        try:
            if level != 4:
                raise Refusal("protocol-level", "protocol level %d; DPS speaks MQTT 3.1.1 (level 4)" % level, code=1)
            registration_id = self.check_username(username, client_id)
            enrollment = self.dps.authenticate(registration_id, password, subject_cn, entry)
            if enrollment.get("connect") == "refuse":
                raise Refusal("enrollment-refused", "the config refuses every CONNECT of this enrollment")
        except Refusal as refusal:
            self.record("connect", accepted=False, code=refusal.code, reason=refusal.reason, detail=refusal.detail,
                        enrollment=None, **entry)
            raise
        self.registration_id, self.enrollment = registration_id, enrollment
        self.dps.count("accepted")
        self.record("connect", accepted=True, code=0, reason=None, detail=None,
                    enrollment=enrollment.get("registrationId") or enrollment.get("groupId"), **entry)
        self.send(bytes([0x20, 0x02, 0x00, 0x00]))

    def check_username(self, username, client_id):
        """The registration id the user name names; raises Refusal."""
        match = re.fullmatch(r"([^/]+)/registrations/([^/]+)/api-version=([^&]*)((?:&.*)?)", username or "", re.S)
        if not match:
            raise Refusal("username", "user name %r is not {idScope}/registrations/{id}/api-version=%s"
                          % (username, API_VERSION))
        scope, registration_id, version, rest = match.groups()
        if version != API_VERSION:
            raise Refusal("username", "api-version %r, expected %s" % (version, API_VERSION))
        if rest and not re.fullmatch(r"&ClientVersion=[A-Za-z0-9%._~-]+", rest):
            raise Refusal("username", "after the api-version only &ClientVersion={url-encoded} may follow: %r" % rest)
        if scope != self.dps.scope:
            raise Refusal("unknown-scope", "id scope %r is not this DPS's" % scope)
        if client_id != registration_id:
            raise Refusal("client-id", "client id %r is not the registration id %r" % (client_id, registration_id))
        return registration_id

    def subscribe(self, flags, body):
        if flags != 0x02:
            raise Violation("malformed", "SUBSCRIBE flags %d" % flags)
        packet_id, pos = read_u16(body, 0)
        filters, granted = [], []
        while pos < len(body):
            topic_filter, pos = read_text(body, pos)
            if pos >= len(body) or body[pos] > 2:
                raise Violation("malformed", "SUBSCRIBE filter without a valid QoS byte")
            filters.append([topic_filter, body[pos]])
            granted.append(min(body[pos], 1) if topic_filter == RESPONSE_FILTER else 0x80)
            pos += 1
        if not filters:
            raise Violation("malformed", "SUBSCRIBE without filters")
        for (topic_filter, _), qos in zip(filters, granted):
            if qos != 0x80:
                self.granted = qos
        self.record("subscribe", packet_id=packet_id, filters=filters, granted=granted)
        self.send(bytes([0x90, 2 + len(granted), packet_id >> 8, packet_id & 0xFF]) + bytes(granted))

    def publish(self, flags, body):
        qos = (flags >> 1) & 0x03
        if qos > 1:
            raise Violation("qos", "PUBLISH QoS %d" % qos)
        topic, pos = read_text(body, 0)
        packet_id = None
        if qos:
            packet_id, pos = read_u16(body, pos)
        payload = body[pos:]
        entry = {"topic": topic, "qos": qos, "body": payload.decode("utf-8", "replace"),
                 "registration_id": self.registration_id}
        register, status = REGISTER.match(topic), STATUS.match(topic)
        if not register and not status:
            raise Violation("topic", "DPS takes no PUBLISH on %r" % topic)
        if qos:
            self.send(bytes([0x40, 0x02, packet_id >> 8, packet_id & 0xFF]))
        rid = (register or status).group(1)
        self.dps.check_due(self.registration_id, entry)
        if register:
            self.dps.count("registers")
            answer = self.dps.register(self.enrollment, self.registration_id, payload)
            self.record("request", kind="register", rid=rid, operation_id=None, operation_ok=None, **entry)
        else:
            self.dps.count("status_requests")
            operation_id = status.group(2)
            answer = self.dps.status(self.enrollment, self.registration_id, operation_id)
            self.record("request", kind="status", rid=rid, operation_id=operation_id, operation_ok=answer[0] != 404, **entry)
        self.answer(rid, *answer)

    def answer(self, rid, status, retry_after, document):
        topic = "$dps/registrations/res/%d/?$rid=%s" % (status, rid)
        if retry_after is not None:
            topic += "&retry-after=%d" % retry_after
        payload = json.dumps(document, separators=(",", ":")).encode()
        self.record("answer", topic=topic, status=status, body=payload.decode())
        if self.granted is None:
            return  # not subscribed: DPS has nowhere to send it
        encoded_topic = topic.encode()
        variable = len(encoded_topic).to_bytes(2, "big") + encoded_topic + (b"\x00\x01" if self.granted else b"")
        remaining = len(variable) + len(payload)
        length = bytearray()
        while True:
            byte, remaining = remaining % 128, remaining // 128
            length.append(byte | (0x80 if remaining else 0))
            if not remaining:
                break
        self.send(bytes([0x30 | (self.granted << 1)]) + bytes(length) + variable + payload)


class WebSocketStream:
    """The socket interface the MQTT session uses (recv, sendall, shutdown, ...) over WebSocket frames."""

    def __init__(self, tls, session):
        self.tls, self.session = tls, session
        self.reader = websocket_bridge.FrameReader()
        self.closed = False

    def unframe(self, data):
        """The data bytes in `data` (b"" once the stream is over); control frames handled."""
        try:
            frames = self.reader.feed(data)
        except websocket_bridge.Violation as violation:
            self.session.record("violation", reason="websocket-" + violation.reason, detail=violation.detail)
            self.tls.sendall(websocket_bridge.encode_frame(0x8, (1002).to_bytes(2, "big")))
            self.closed = True
            return b""
        out = bytearray()
        for _, opcode, _, payload in frames:
            if opcode in (0x0, 0x2):
                out += payload
            elif opcode == 0x9:
                self.tls.sendall(websocket_bridge.encode_frame(0xA, payload))
            elif opcode == 0x8:
                self.tls.sendall(websocket_bridge.encode_frame(0x8, payload[:2]))
                self.session.record("websocket-close", status=int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None)
                self.closed = True
                break
        return bytes(out)

    def recv(self, size):
        while not self.closed:
            data = self.tls.recv(size)
            if not data:
                return b""
            out = self.unframe(data)
            if out or self.closed:
                return out
        return b""

    def sendall(self, data):
        self.tls.sendall(websocket_bridge.encode_frame(0x2, data))

    def finish(self):
        """After the MQTT session: waits (at most 2 s) for the device's close frame and answers it."""
        try:
            self.tls.settimeout(2)
            while not self.closed and self.recv(4096) != b"":
                pass
        except (socket.timeout, ssl.SSLError, OSError):
            pass

    def settimeout(self, value):
        self.tls.settimeout(value)

    def shutdown(self, how):
        self.tls.shutdown(how)

    def fileno(self):
        return self.tls.fileno()

    def getpeercert(self):
        return self.tls.getpeercert()

    def close(self):
        self.tls.close()


def control_server(dps, listener):
    def apply(command):
        with dps.lock:
            if "clock_offset_s" in command:
                dps.clock_offset = float(command["clock_offset_s"])
            if command.get("reset"):
                dps.reset()
            return dict(ok=True, **dps.counts)

    serve_control(listener, apply)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cert", required=True, help="server certificate (PEM)")
    parser.add_argument("--key", required=True, help="server key (PEM)")
    parser.add_argument("--client-ca", help="CA file for device certificates (X.509 enrollments)")
    parser.add_argument("--config", required=True, help="enrollments (JSON, see above)")
    parser.add_argument("--port", type=int, default=0, help="device port (0 = any free port)")
    parser.add_argument("--port-file", help="write the device and control ports here (two lines)")
    parser.add_argument("--log", help="JSON-lines record of everything seen")
    parser.add_argument("--clock-offset-s", type=float, default=0.0, help="the fixture's clock = real clock + this")
    parser.add_argument("--connect-timeout-s", type=float, default=30.0, help="close a silent connection after this")
    parser.add_argument("--exit-with-parent", action="store_true", help="exit when the parent process is gone")
    args = parser.parse_args()
    with open(args.config, encoding="utf-8") as f:
        dps = DPS(args, json.load(f))

    dps.context = server_context(args.cert, args.key, args.client_ca)
    listener, control = open_listeners(args.port)
    ports = "%d\n%d\n" % (listener.getsockname()[1], control.getsockname()[1])
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(ports)
        os.replace(args.port_file + ".tmp", args.port_file)
    sys.stdout.write(ports)
    sys.stdout.flush()
    threading.Thread(target=control_server, args=(dps, control), daemon=True).start()
    if args.exit_with_parent:
        exit_with_parent()

    while True:
        sock, _ = listener.accept()
        with dps.lock:
            dps.counts["connections"] += 1
            dps.sessions += 1
            number = dps.sessions
        threading.Thread(target=Session(dps, sock, number).run, daemon=True).start()


if __name__ == "__main__":
    main()
