#!/usr/bin/env python3
"""The device-facing MQTT side of IoT Hub, in front of a real mosquitto, for TinyHub's tests.

Python 3 standard library only. A TLS server on 127.0.0.1 (port 0 = any free port) that a device
connects to as it would to `{hub}.azure-devices.net:8883`. It reads the device's MQTT 3.1.1 byte
stream packet by packet (bounded; hostile input ends the connection, never the gate), checks it the
way IoT Hub does, and forwards what it accepts, byte for byte, to a plain-TCP mosquitto on loopback
(`--broker-port`), which routes it to service-side tools (mosquitto_sub/mosquitto_pub). Everything
the broker sends back goes to the device unchanged.

Stdout: line 1 = the device port, line 2 = the control port (then nothing).

CONNECT (what IoT Hub expects; written here from the hub's documented behaviour, not from TinyHub):
  - protocol "MQTT" level 4 (other levels: CONNACK 1);
  - client id `{deviceId}` or `{deviceId}/{moduleId}`, an identity configured with --device or
    --x509-device;
  - user name `{HostName}/{deviceId}[/{moduleId}]/?api-version=V&DeviceClientType=C[&model-id=M]`:
    the host given with --host, the same identity as the client id, V one of the accepted
    api-versions (--api-version, default: the versions IoT Hub serves for MQTT devices),
    C and M non-empty and percent-encoded, `model-id` only with V >= 2020-09-30, nothing else;
  - SAS identities: password `SharedAccessSignature sr=…&sig=…&se=…` (any field order, no `skn`:
    these are device keys), `sr` percent-decoding to `{host}/devices/{d}[/modules/{m}]`, `se` later
    than the gate's clock (real clock + --clock-offset-s), and `sig` = base64(HMAC-SHA256(key,
    literal sr + "\\n" + literal se)) with the key given for the identity;
  - X.509 identities: a client certificate (verified against --client-ca by the TLS layer) whose
    subject CN is the client id, and no password (an empty one is tolerated);
  - clean session 0 (TinyHub's rule, so queued C2D survives; --allow-clean-session lifts it);
  - a will, if any, on the identity's telemetry topic with QoS <= 1.
  A refused CONNECT is answered by the gate itself with CONNACK 5 (1 for the protocol level), then
  the connection is closed; the broker never sees it.

After CONNECT, per packet:
  - PUBLISH: QoS 0 or 1 (QoS 2 closes the connection, as IoT Hub does); topic one of
      devices/{d}/messages/events/{bag}  (module: devices/{d}/modules/{m}/messages/events/{bag})
      $iothub/twin/GET/?$rid={rid}
      $iothub/twin/PATCH/properties/reported/?$rid={rid}
      $iothub/methods/res/{status}/?$rid={rid}
    where {bag} is empty or `k=v&k=v` (bare `k` allowed), each name and value made of unreserved
    characters, `!*'()$`, and `%XX` escapes that decode to UTF-8. RETAIN is cleared on the way
    to the broker (IoT Hub does not retain).
  - SUBSCRIBE: filters devices/{d}/messages/devicebound/# (devices only; also the `+` form),
    $iothub/twin/res/#, $iothub/twin/PATCH/properties/desired/#, $iothub/methods/POST/#;
    a QoS 2 request is forwarded as QoS 1 (IoT Hub grants at most 1).
  - UNSUBSCRIBE, PUBACK, PINGREQ, DISCONNECT: forwarded. QoS 2 flow packets, a second CONNECT or a
    server-only packet type: connection closed.
  - While connected, the connection is closed once the gate's clock passes the token's `se`
    (+ --expiry-grace-s), as IoT Hub drops a connection whose token expired.
  Anything refused is recorded and the connection closed.

Record (--log FILE): one JSON object per line, written as it happens. Every record has `seq`,
`conn` (connection number, from 1) and `event`:
  connect   client_id, username, password (text or null), clean_session, keep_alive, will_topic,
            x509_subject_cn, accepted, code (CONNACK sent by the gate, or null when forwarded),
            reason (null or a short word: protocol-level, clean-session, client-id, unknown-identity,
            username, api-version, device-client-type, model-id, no-password, token-format,
            skn-not-accepted, resource-mismatch, expired, signature-mismatch, x509-password,
            x509-no-certificate, x509-subject-mismatch, will, injected, broker-unreachable),
            detail (text), sas ({sr, se, skn} as sent, or null), tls_resumed (whether the device's TLS
            handshake resumed an earlier session: OpenSSL's session_reused)
  publish   dir ("up" device->hub, "down" hub->device), topic, qos, retain, dup, packet_id,
            payload_hex, kind (telemetry, twin-get, twin-patch, method-response; up only),
            properties ([[name, value or null]] decoded, telemetry only), accepted (up only)
  subscribe packet_id, filters ([[filter, qos]]), accepted
  unsubscribe packet_id, filters
  connack   (dir down) code, session_present        suback (dir down) packet_id, granted
  puback    dir, packet_id                           disconnect (device sent DISCONNECT)
  violation reason, detail   (then the connection is closed)
  close     reason (client-closed, broker-closed, violation, refused, token-expired, kicked, no-connect, error)
  tls-error detail

Control port (127.0.0.1, one JSON object per line in, one JSON line out):
  {"refuse": N, "code": C}   answer the next N CONNECTs with CONNACK C (default 3), reason injected
  {"clock_offset_s": S}      move the gate's clock
  {"kick": true}             close every device connection (reason kicked)
  {"hold_acks": B}           while true, PUBACKs from the broker are not passed on to devices (recorded
                             as puback with held true): the hub got the message, the device never hears so
  {"stats": true}            {"connections", "accepted", "refused", "active"}
"""
import argparse
import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import select
import socket
import ssl
import sys
import threading
import time
import urllib.parse

# IoT Hub's message limit is 256 KB; topic, properties and header come on top.
MAX_PACKET = 256 * 1024 + 16 * 1024
# api-versions IoT Hub serves on its MQTT device endpoint (the service's REST/MQTT version list;
# 2020-09-30 is the one the C SDKs send, 2021-04-12 the one in the MQTT documentation's example).
HUB_API_VERSIONS = ("2018-06-30", "2019-10-01", "2020-09-30", "2021-04-12")
MODEL_ID_SINCE = "2020-09-30"
# Characters a property name/value or a query value may carry unescaped.
SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!*'()$")
HEX = frozenset(b"0123456789ABCDEFabcdef")
BUFFER_LIMIT = 1 << 20


class Violation(Exception):
    """The device broke a rule: record it and close the connection."""

    def __init__(self, reason, detail):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


class Refusal(Exception):
    """A CONNECT the hub refuses: CONNACK `code`, then close."""

    def __init__(self, reason, detail, code=5):
        super().__init__(detail)
        self.reason, self.detail, self.code = reason, detail, code


# ---------------------------------------------------------------------------------------------
# MQTT framing and fields


class PacketReader:
    """Splits a byte stream into MQTT packets; never holds more than one bounded packet."""

    def __init__(self, limit):
        self.buffer = bytearray()
        self.limit = limit

    def feed(self, data):
        self.buffer += data
        packets = []
        while len(self.buffer) >= 2:
            value, multiplier, index = 0, 1, 1
            while True:
                if index >= len(self.buffer):
                    return packets
                byte = self.buffer[index]
                value += (byte & 0x7F) * multiplier
                index += 1
                if byte & 0x80 == 0:
                    break
                if index == 5:
                    raise Violation("malformed", "remaining length longer than 4 bytes")
                multiplier *= 128
            if value > self.limit:
                raise Violation("packet-too-large", "remaining length %d > %d" % (value, self.limit))
            if len(self.buffer) < index + value:
                return packets
            raw = bytes(self.buffer[:index + value])
            del self.buffer[:index + value]
            packets.append((raw[0], raw[index:], raw))
        return packets


def read_u16(body, pos):
    if pos + 2 > len(body):
        raise Violation("malformed", "packet ends inside a two-byte field")
    return (body[pos] << 8) | body[pos + 1], pos + 2


def read_binary(body, pos):
    length, pos = read_u16(body, pos)
    if pos + length > len(body):
        raise Violation("malformed", "length-prefixed field runs past the packet")
    return body[pos:pos + length], pos + length


def read_text(body, pos):
    raw, pos = read_binary(body, pos)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Violation("malformed", "string is not UTF-8: %s" % raw.hex())
    if "\x00" in text:
        raise Violation("malformed", "string contains U+0000")
    return text, pos


# ---------------------------------------------------------------------------------------------
# IoT Hub rules


def decode_component(text, what):
    """Checks one percent-encoded name/value and returns it decoded."""
    data = text.encode("utf-8")
    i = 0
    while i < len(data):
        c = data[i]
        if c == 0x25:
            if i + 2 >= len(data) or data[i + 1] not in HEX or data[i + 2] not in HEX:
                raise Violation("property-bag", "%s: bad %%-escape in %r" % (what, text))
            i += 3
        elif c in SAFE:
            i += 1
        else:
            raise Violation("property-bag", "%s: %r must be percent-encoded in %r" % (what, chr(c), text))
    try:
        return urllib.parse.unquote_to_bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        raise Violation("property-bag", "%s: %r does not decode to UTF-8" % (what, text))


def parse_bag(text, what):
    """`k=v&k&k=` -> [(k, v or None)], every component checked; empty text = no properties."""
    if text == "":
        return []
    pairs = []
    for part in text.split("&"):
        if part == "":
            raise Violation("property-bag", "%s: empty property in %r" % (what, text))
        name, sep, value = part.partition("=")
        if name == "":
            raise Violation("property-bag", "%s: property without a name in %r" % (what, text))
        pairs.append((decode_component(name, what), decode_component(value, what) if sep else None))
    return pairs


def parse_request_bag(text, what):
    """The `?$rid=…` part of twin and method topics: exactly one non-empty $rid."""
    pairs = parse_bag(text, what)
    if len(pairs) != 1 or pairs[0][0] != "$rid" or not pairs[0][1]:
        raise Violation("topic-not-allowed", "%s: expected exactly ?$rid=<id>, got ?%s" % (what, text))
    return pairs


METHOD_RESPONSE = re.compile(r"\$iothub/methods/res/([0-9]{1,5})/\?(.*)\Z", re.S)


def classify_publish(topic, identity):
    """(kind, properties) for a topic the identity may publish to, else Violation."""
    device, module = identity
    events = "devices/%s/messages/events/" % device if module is None else \
        "devices/%s/modules/%s/messages/events/" % (device, module)
    if topic.startswith(events):
        return "telemetry", parse_bag(topic[len(events):], "telemetry properties")
    for prefix, kind in (("$iothub/twin/GET/?", "twin-get"),
                         ("$iothub/twin/PATCH/properties/reported/?", "twin-patch")):
        if topic.startswith(prefix):
            parse_request_bag(topic[len(prefix):], kind)
            return kind, None
    match = METHOD_RESPONSE.match(topic)
    if match:
        parse_request_bag(match.group(2), "method-response")
        return "method-response", None
    raise Violation("topic-not-allowed", "%s may not publish to %r" % (identity_text(identity), topic))


def allowed_filters(identity):
    device, module = identity
    filters = {"$iothub/twin/res/#", "$iothub/twin/PATCH/properties/desired/#", "$iothub/methods/POST/#"}
    if module is None:
        filters |= {"devices/%s/messages/devicebound/#" % device, "devices/+/messages/devicebound/#"}
    return filters


def identity_text(identity):
    return identity[0] if identity[1] is None else "%s/%s" % identity


def parse_identity(text):
    parts = text.split("/")
    if len(parts) == 1 and parts[0]:
        return parts[0], None
    if len(parts) == 2 and parts[0] and parts[1]:
        return parts[0], parts[1]
    return None


class Hub:
    """Configuration, clock, counters and the record file, shared by all connections."""

    def __init__(self, args):
        self.args = args
        self.host = args.host
        self.keys = {}
        for spec in args.device or []:
            name, sep, key = spec.partition("=")
            identity = parse_identity(name)
            if not sep or identity is None:
                sys.exit("--device wants ID[/MODULE]=BASE64KEY, got %r" % spec)
            self.keys[identity] = base64.b64decode(key, validate=True)
        self.x509 = set()
        for spec in args.x509_device or []:
            identity = parse_identity(spec)
            if identity is None:
                sys.exit("--x509-device wants ID[/MODULE], got %r" % spec)
            self.x509.add(identity)
        self.api_versions = tuple(args.api_version) if args.api_version else HUB_API_VERSIONS
        self.lock = threading.Lock()
        self.clock_offset = args.clock_offset_s
        self.refuse_left = args.refuse_next
        self.refuse_code = args.refuse_code
        self.hold_acks = False
        self.seq = 0
        self.connections = 0
        self.accepted = 0
        self.refused = 0
        self.active = set()
        self.log = open(args.log, "a", encoding="utf-8") if args.log else None

    def now(self):
        with self.lock:
            return time.time() + self.clock_offset

    def record(self, conn, event, **fields):
        with self.lock:
            self.seq += 1
            entry = {"seq": self.seq, "conn": conn, "event": event}
            entry.update(fields)
            if self.log:
                self.log.write(json.dumps(entry, ensure_ascii=False) + "\n")
                self.log.flush()

    def take_injected_refusal(self):
        with self.lock:
            if self.refuse_left > 0:
                self.refuse_left -= 1
                return self.refuse_code
            return None

    # -- CONNECT ------------------------------------------------------------------------------

    def check_username(self, username, identity):
        if username is None:
            raise Refusal("username", "no user name")
        prefix, sep, query = username.partition("/?")
        if not sep:
            raise Refusal("username", "no '/?' before the query in %r" % username)
        parts = prefix.split("/")
        expected = [self.host] + [identity[0]] + ([identity[1]] if identity[1] is not None else [])
        if len(parts) != len(expected) or parts[0].lower() != self.host.lower() or parts[1:] != expected[1:]:
            raise Refusal("username", "user name names %r, expected %r" % (prefix, "/".join(expected)))
        fields = {}
        for part in query.split("&"):
            name, has_value, value = part.partition("=")
            if not has_value or name in fields or name not in ("api-version", "DeviceClientType", "model-id"):
                raise Refusal("username", "query part %r (unknown, repeated or without '=') in %r" % (part, username))
            fields[name] = value
        version = fields.get("api-version")
        if version not in self.api_versions:
            raise Refusal("api-version", "api-version %r is not one of %s" % (version, ", ".join(self.api_versions)))
        for name, reason in (("DeviceClientType", "device-client-type"), ("model-id", "model-id")):
            if name not in fields:
                if name == "DeviceClientType":
                    raise Refusal(reason, "no DeviceClientType in %r" % username)
                continue
            if fields[name] == "":
                raise Refusal(reason, "empty %s" % name)
            try:
                decode_component(fields[name], name)
            except Violation as bad:
                raise Refusal(reason, bad.detail)
        if "model-id" in fields and version < MODEL_ID_SINCE:
            raise Refusal("model-id", "model-id needs api-version %s or later" % MODEL_ID_SINCE)

    def check_sas(self, password, identity, entry):
        """Puts {sr, se, skn} as sent into entry["sas"]; raises Refusal."""
        if password is None:
            raise Refusal("no-password", "SAS identity connected without a password")
        try:
            token = password.decode("utf-8")
        except UnicodeDecodeError:
            raise Refusal("token-format", "password is not UTF-8")
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
        if not {"sr", "sig", "se"} <= fields.keys():
            raise Refusal("token-format", "token lacks sr, sig or se")
        if "skn" in fields:
            raise Refusal("skn-not-accepted", "skn=%s: the gate knows device keys only, no shared access policy" % fields["skn"])
        device, module = identity
        resource = "%s/devices/%s" % (self.host, device) + ("" if module is None else "/modules/%s" % module)
        try:
            decoded = urllib.parse.unquote(fields["sr"], errors="strict")
        except UnicodeDecodeError:
            raise Refusal("token-format", "sr %r does not decode to UTF-8" % fields["sr"])
        head_ok = decoded.lower().startswith(self.host.lower() + "/")
        if not head_ok or decoded[len(self.host):] != resource[len(self.host):]:
            raise Refusal("resource-mismatch", "sr %r is not %r" % (decoded, resource))
        if not re.fullmatch(r"[0-9]{1,12}", fields["se"]):
            raise Refusal("token-format", "se %r is not decimal seconds" % fields["se"])
        now = self.now()
        if int(fields["se"]) <= now:
            raise Refusal("expired", "se %s is not after the hub's clock %d" % (fields["se"], int(now)))
        try:
            signature = base64.b64decode(urllib.parse.unquote(fields["sig"]), validate=True)
        except (binascii.Error, ValueError):
            raise Refusal("token-format", "sig %r is not URL-encoded base64" % fields["sig"])
        expected = hmac.new(self.keys[identity], (fields["sr"] + "\n" + fields["se"]).encode("utf-8"), hashlib.sha256).digest()
        if not hmac.compare_digest(signature, expected):
            raise Refusal("signature-mismatch", "sig does not match HMAC-SHA256(key of %s, sr + \\n + se)"
                          % identity_text(identity))


class Connection:
    """One device connection: TLS, CONNECT checks, then packet-by-packet forwarding."""

    def __init__(self, hub, sock, number):
        self.hub = hub
        self.sock = sock
        self.number = number
        self.tls = None
        self.upstream = None
        self.identity = None
        self.expiry = None
        self.connected = False
        self.kicked = False
        self.to_client = bytearray()
        self.to_broker = bytearray()
        self.up_reader = PacketReader(MAX_PACKET)
        self.down_reader = PacketReader(MAX_PACKET)
        self.down_broken = False

    def record(self, event, **fields):
        self.hub.record(self.number, event, **fields)

    def run(self):
        with self.hub.lock:
            self.hub.active.add(self)
        try:
            self.serve()
        except Exception as error:  # a fixture bug must not kill the gate
            self.record("close", reason="error", detail=repr(error))
        finally:
            with self.hub.lock:
                self.hub.active.discard(self)
            for s in (self.upstream, self.tls or self.sock):
                try:
                    s.close()
                except Exception:
                    pass

    def serve(self):
        self.sock.settimeout(10)
        try:
            self.tls = self.hub.context.wrap_socket(self.sock, server_side=True)
        except (ssl.SSLError, OSError) as error:
            self.record("tls-error", detail=str(error))
            return
        self.tls.setblocking(False)
        client_open = True
        connect_deadline = time.time() + self.hub.args.connect_timeout_s
        while True:
            if not self.connected and time.time() > connect_deadline:
                self.record("close", reason="no-connect", detail="no CONNECT within %g s" % self.hub.args.connect_timeout_s)
                return
            if self.kicked:
                self.record("close", reason="kicked")
                return
            if self.connected and self.expiry is not None and self.hub.now() > self.expiry + self.hub.args.expiry_grace_s:
                self.record("close", reason="token-expired", detail="se %d passed on the hub's clock" % self.expiry)
                return
            readers, writers = [], []
            if client_open and len(self.to_broker) < BUFFER_LIMIT:
                readers.append(self.tls)
            if self.upstream is not None and len(self.to_client) < BUFFER_LIMIT:
                readers.append(self.upstream)
            if self.to_client:
                writers.append(self.tls)
            if self.to_broker and self.upstream is not None:
                writers.append(self.upstream)
            if self.tls in readers and self.tls.pending():
                ready_r, ready_w = [self.tls], []
            else:
                ready_r, ready_w, _ = select.select(readers, writers, [], 0.25)
            if self.tls in ready_r:
                try:
                    data = self.tls.recv(65536)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    data = None
                except (ssl.SSLError, OSError) as error:
                    self.record("close", reason="client-closed", detail=str(error))
                    return
                if data == b"":
                    self.flush_to_broker()
                    self.record("close", reason="client-closed")
                    return
                if data:
                    try:
                        self.from_client(data)
                    except Refusal as refusal:
                        self.refuse(refusal.code)
                        self.record("close", reason="refused")
                        return
                    except Violation as violation:
                        self.record("violation", reason=violation.reason, detail=violation.detail)
                        self.flush_to_broker()
                        self.record("close", reason="violation")
                        return
            if self.upstream is not None and self.upstream in ready_r:
                try:
                    data = self.upstream.recv(65536)
                except BlockingIOError:
                    data = None
                except OSError:
                    data = b""
                if data == b"":
                    self.flush_to_client()
                    self.record("close", reason="broker-closed")
                    return
                if data:
                    self.to_client += self.log_down(data)
            if self.tls in ready_w and self.to_client:
                try:
                    sent = self.tls.send(self.to_client)
                    del self.to_client[:sent]
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    pass
                except (ssl.SSLError, OSError) as error:
                    self.record("close", reason="client-closed", detail=str(error))
                    return
            if self.upstream is not None and self.upstream in ready_w and self.to_broker:
                try:
                    sent = self.upstream.send(self.to_broker)
                    del self.to_broker[:sent]
                except BlockingIOError:
                    pass
                except OSError:
                    self.record("close", reason="broker-closed")
                    return

    def flush_to_broker(self):
        if self.upstream is not None and self.to_broker:
            try:
                self.upstream.setblocking(True)
                self.upstream.settimeout(5)
                self.upstream.sendall(self.to_broker)
            except OSError:
                pass
            self.to_broker.clear()

    def flush_to_client(self):
        if self.to_client:
            try:
                self.tls.settimeout(5)
                self.tls.sendall(self.to_client)
            except (ssl.SSLError, OSError):
                pass
            self.to_client.clear()

    def refuse(self, code):
        """CONNACK `code`, then a half close that lets the device read it before the socket goes."""
        try:
            self.tls.settimeout(5)
            self.tls.sendall(bytes([0x20, 0x02, 0x00, code]))
            self.tls.shutdown(socket.SHUT_WR)
            deadline = time.time() + 2
            while time.time() < deadline:
                ready, _, _ = select.select([self.tls], [], [], 0.2)
                if ready and not self.tls.recv(4096):
                    break
        except (ssl.SSLError, OSError, ValueError):
            pass

    # -- device -> hub ------------------------------------------------------------------------

    def from_client(self, data):
        for first, body, raw in self.up_reader.feed(data):
            kind, flags = first >> 4, first & 0x0F
            if not self.connected:
                if kind != 1:
                    raise Violation("protocol", "first packet is type %d, not CONNECT" % kind)
                self.on_connect(flags, body, raw)
                continue
            if kind == 3:
                self.on_publish(flags, body, raw)
            elif kind == 8:
                self.on_subscribe(flags, body, raw)
            elif kind == 10:
                self.on_unsubscribe(flags, body, raw)
            elif kind == 4:
                if flags != 0 or len(body) != 2:
                    raise Violation("malformed", "PUBACK with flags %d, length %d" % (flags, len(body)))
                self.record("puback", dir="up", packet_id=read_u16(body, 0)[0])
                self.to_broker += raw
            elif kind == 12:
                if flags != 0 or body:
                    raise Violation("malformed", "PINGREQ with flags or a body")
                self.to_broker += raw
            elif kind == 14:
                if flags != 0 or body:
                    raise Violation("malformed", "DISCONNECT with flags or a body")
                self.record("disconnect")
                self.to_broker += raw
            elif kind == 1:
                raise Violation("protocol", "second CONNECT on one connection")
            elif kind in (5, 6, 7):
                raise Violation("qos2", "QoS 2 flow packet (type %d): IoT Hub has no QoS 2" % kind)
            else:
                raise Violation("protocol", "packet type %d is not sent by clients" % kind)

    def on_connect(self, flags, body, raw):
        if flags != 0:
            raise Violation("malformed", "CONNECT fixed-header flags %d" % flags)
        name, pos = read_text(body, 0)
        if name != "MQTT":
            raise Violation("protocol", "protocol name %r" % name)
        if pos + 4 > len(body):
            raise Violation("malformed", "CONNECT header cut short")
        level, connect_flags = body[pos], body[pos + 1]
        keep_alive, pos = read_u16(body, pos + 2)
        if connect_flags & 0x01:
            raise Violation("malformed", "CONNECT reserved flag set")
        client_id, pos = read_text(body, pos)
        will_topic = None
        will_qos = (connect_flags >> 3) & 0x03
        if connect_flags & 0x04:
            will_topic, pos = read_text(body, pos)
            _, pos = read_binary(body, pos)
            if will_qos == 3:
                raise Violation("malformed", "will QoS 3")
        elif connect_flags & 0x38:
            raise Violation("malformed", "will QoS/retain without a will")
        username = password = None
        if connect_flags & 0x80:
            username, pos = read_text(body, pos)
        if connect_flags & 0x40:
            if not connect_flags & 0x80:
                raise Violation("malformed", "password without user name")
            password, pos = read_binary(body, pos)
        if pos != len(body):
            raise Violation("malformed", "%d bytes after the CONNECT payload" % (len(body) - pos))
        clean = bool(connect_flags & 0x02)
        cert = self.tls.getpeercert() or {}
        subject_cn = None
        for rdn in cert.get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    subject_cn = value
        entry = {"client_id": client_id, "username": username,
                 "password": None if password is None else password.decode("utf-8", "replace"),
                 "clean_session": clean, "keep_alive": keep_alive, "will_topic": will_topic,
                 "x509_subject_cn": subject_cn, "sas": None, "tls_resumed": bool(self.tls.session_reused)}
        try:
            self.check_connect(level, clean, client_id, username, password, subject_cn, will_topic, will_qos, entry)
        except Refusal as refusal:
            with self.hub.lock:
                self.hub.refused += 1
            self.record("connect", accepted=False, code=refusal.code, reason=refusal.reason, detail=refusal.detail, **entry)
            raise
        try:
            self.upstream = socket.create_connection(("127.0.0.1", self.hub.args.broker_port), timeout=5)
        except OSError as error:
            refusal = Refusal("broker-unreachable", "mosquitto on port %d: %s" % (self.hub.args.broker_port, error), code=3)
            self.record("connect", accepted=False, code=3, reason=refusal.reason, detail=refusal.detail, **entry)
            raise refusal
        self.upstream.setblocking(False)
        with self.hub.lock:
            self.hub.accepted += 1
        self.record("connect", accepted=True, code=None, reason=None, detail=None, **entry)
        self.connected = True
        self.to_broker += raw

    def check_connect(self, level, clean, client_id, username, password, subject_cn, will_topic, will_qos, entry):
        hub = self.hub
        if level != 4:
            raise Refusal("protocol-level", "protocol level %d; IoT Hub speaks MQTT 3.1.1 (level 4)" % level, code=1)
        injected = hub.take_injected_refusal()
        if injected is not None:
            raise Refusal("injected", "refusal injected through the control port", code=injected)
        identity = parse_identity(client_id)
        if identity is None:
            raise Refusal("client-id", "client id %r is not {deviceId} or {deviceId}/{moduleId}" % client_id)
        if identity not in hub.keys and identity not in hub.x509:
            raise Refusal("unknown-identity", "%r is not a registered identity" % client_id)
        self.identity = identity
        hub.check_username(username, identity)
        if identity in hub.x509:
            if password:
                raise Refusal("x509-password", "X.509 identity %r sent a password" % client_id)
            if subject_cn is None:
                raise Refusal("x509-no-certificate", "X.509 identity %r presented no client certificate" % client_id)
            if subject_cn != client_id:
                raise Refusal("x509-subject-mismatch", "certificate CN %r is not %r" % (subject_cn, client_id))
        else:
            hub.check_sas(password, identity, entry)
            self.expiry = int(entry["sas"]["se"])
        if clean and not hub.args.allow_clean_session:
            raise Refusal("clean-session", "clean session 1: TinyHub keeps its session (queued C2D) with 0")
        if will_topic is not None:
            if will_qos > 1:
                raise Refusal("will", "will QoS %d" % will_qos)
            try:
                kind, _ = classify_publish(will_topic, identity)
            except Violation as bad:
                raise Refusal("will", bad.detail)
            if kind != "telemetry":
                raise Refusal("will", "will topic %r is not the telemetry topic" % will_topic)

    def on_publish(self, flags, body, raw):
        qos, retain, dup = (flags >> 1) & 0x03, bool(flags & 0x01), bool(flags & 0x08)
        if qos == 3:
            raise Violation("malformed", "PUBLISH QoS 3")
        topic, pos = read_text(body, 0)
        packet_id = None
        if qos > 0:
            packet_id, pos = read_u16(body, pos)
            if packet_id == 0:
                raise Violation("malformed", "PUBLISH packet id 0")
        entry = {"dir": "up", "topic": topic, "qos": qos, "retain": retain, "dup": dup, "packet_id": packet_id,
                 "payload_hex": body[pos:].hex()}
        try:
            if qos == 2:
                raise Violation("qos2", "PUBLISH with QoS 2: IoT Hub closes the connection")
            if "+" in topic or "#" in topic or topic == "":
                raise Violation("malformed", "PUBLISH topic %r is empty or has wildcards" % topic)
            kind, properties = classify_publish(topic, self.identity)
        except Violation:
            self.record("publish", kind=None, properties=None, accepted=False, **entry)
            raise
        self.record("publish", kind=kind, properties=properties, accepted=True, **entry)
        self.to_broker += bytes([raw[0] & 0xFE]) + raw[1:] if retain else raw

    def on_subscribe(self, flags, body, raw):
        if flags != 0x02:
            raise Violation("malformed", "SUBSCRIBE flags %d" % flags)
        packet_id, pos = read_u16(body, 0)
        header = len(raw) - len(body)
        rewritten = bytearray(raw)
        filters = []
        while pos < len(body):
            topic_filter, pos = read_text(body, pos)
            if pos >= len(body):
                raise Violation("malformed", "SUBSCRIBE filter without QoS byte")
            options = body[pos]
            if options & 0xFC or options == 3:
                raise Violation("malformed", "SUBSCRIBE options byte %d" % options)
            if options == 2:
                rewritten[header + pos] = 1
            filters.append([topic_filter, options])
            pos += 1
        if not filters:
            raise Violation("malformed", "SUBSCRIBE without filters")
        refused = [f for f, _ in filters if f not in allowed_filters(self.identity)]
        self.record("subscribe", packet_id=packet_id, filters=filters, accepted=not refused)
        if refused:
            raise Violation("subscription-not-allowed", "%s may not subscribe to %r"
                            % (identity_text(self.identity), refused))
        self.to_broker += rewritten

    def on_unsubscribe(self, flags, body, raw):
        if flags != 0x02:
            raise Violation("malformed", "UNSUBSCRIBE flags %d" % flags)
        packet_id, pos = read_u16(body, 0)
        filters = []
        while pos < len(body):
            topic_filter, pos = read_text(body, pos)
            filters.append(topic_filter)
        if not filters:
            raise Violation("malformed", "UNSUBSCRIBE without filters")
        self.record("unsubscribe", packet_id=packet_id, filters=filters)
        self.to_broker += raw

    # -- hub -> device (recorded only) --------------------------------------------------------

    def log_down(self, data):
        """Records what the broker sends the device; returns the bytes to pass on: whole packets,
        all of them except PUBACKs while acks are held (everything once the stream cannot be parsed)."""
        if self.down_broken:
            return data
        unforwarded = bytes(self.down_reader.buffer) + data
        try:
            packets = self.down_reader.feed(data)
        except Violation as error:
            self.down_broken = True
            self.record("down-parse-error", detail=str(error))
            return unforwarded
        forward = bytearray()
        for index, (first, body, raw) in enumerate(packets):
            try:
                kind, flags = first >> 4, first & 0x0F
                if kind == 2:
                    self.record("connack", dir="down", session_present=bool(body[0] & 1), code=body[1])
                elif kind == 3:
                    qos = (flags >> 1) & 0x03
                    topic, pos = read_text(body, 0)
                    packet_id = None
                    if qos > 0:
                        packet_id, pos = read_u16(body, pos)
                    self.record("publish", dir="down", topic=topic, qos=qos, retain=bool(flags & 1),
                                dup=bool(flags & 8), packet_id=packet_id, payload_hex=body[pos:].hex())
                elif kind == 9:
                    self.record("suback", dir="down", packet_id=read_u16(body, 0)[0], granted=list(body[2:]))
                elif kind == 4:
                    if self.hub.hold_acks:
                        self.record("puback", dir="down", packet_id=read_u16(body, 0)[0], held=True)
                        continue
                    self.record("puback", dir="down", packet_id=read_u16(body, 0)[0])
            except (Violation, IndexError) as error:
                self.down_broken = True
                self.record("down-parse-error", detail=str(error))
                return bytes(forward) + b"".join(packet[2] for packet in packets[index:]) + bytes(self.down_reader.buffer)
            forward += raw
        return bytes(forward)


def control_server(hub, listener):
    def apply(command):
        reply = {"ok": True}
        with hub.lock:
            if "refuse" in command:
                hub.refuse_left = int(command["refuse"])
                hub.refuse_code = int(command.get("code", 3))
            if "clock_offset_s" in command:
                hub.clock_offset = float(command["clock_offset_s"])
            if "hold_acks" in command:
                hub.hold_acks = bool(command["hold_acks"])
            if command.get("kick"):
                for connection in hub.active:
                    connection.kicked = True
            reply.update(connections=hub.connections, accepted=hub.accepted, refused=hub.refused,
                         active=len(hub.active))
        return reply

    serve_control(listener, apply)


def serve_control(listener, apply):
    """The control port of a loopback fixture: one JSON command per line on each connection,
    answered by one JSON line, `apply(command)`'s reply or {"ok": false, "error": ...} for a bad
    command. Never returns. Shared with dps_fixture.py and websocket_bridge.py."""
    def handle(conn):
        with conn, conn.makefile("rwb") as stream:
            for line in stream:
                try:
                    reply = apply(json.loads(line))
                except (ValueError, TypeError, KeyError) as error:
                    reply = {"ok": False, "error": str(error)}
                stream.write((json.dumps(reply) + "\n").encode())
                stream.flush()

    while True:
        conn, _ = listener.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def server_context(cert, key, client_ca):
    """A TLS 1.2+ server context; with `client_ca`, device certificates are asked for (optional)
    and verified against it. Shared with the other loopback fixtures (dps_fixture.py)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    if client_ca:
        context.load_verify_locations(client_ca)
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


def open_listeners(port):
    """The device listener on 127.0.0.1:`port` (0 = any free port) and a control listener on a free port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    control = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    control.bind(("127.0.0.1", 0))
    control.listen(8)
    return listener, control


def exit_with_parent():
    """Ends the process once its parent is gone (a stand-in must not outlive the script that started it)."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)
    threading.Thread(target=watch, daemon=True).start()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cert", required=True, help="server certificate (PEM)")
    parser.add_argument("--key", required=True, help="server key (PEM)")
    parser.add_argument("--client-ca", help="CA file for device certificates (enables X.509 identities)")
    parser.add_argument("--host", required=True, help="the hub's HostName, e.g. myhub.azure-devices.net")
    parser.add_argument("--device", action="append", help="SAS identity ID[/MODULE]=BASE64KEY (repeatable)")
    parser.add_argument("--x509-device", action="append", help="X.509 identity ID[/MODULE] (repeatable)")
    parser.add_argument("--broker-port", type=int, required=True, help="plain TCP port of mosquitto on 127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="device port (0 = any free port)")
    parser.add_argument("--log", help="JSON-lines record of everything seen")
    parser.add_argument("--api-version", action="append", help="accepted api-version (repeatable; default: %s)"
                        % ", ".join(HUB_API_VERSIONS))
    parser.add_argument("--clock-offset-s", type=float, default=0.0, help="the hub's clock = real clock + this")
    parser.add_argument("--expiry-grace-s", type=float, default=0.0, help="keep a connection this long after se")
    parser.add_argument("--connect-timeout-s", type=float, default=30.0, help="close a connection without CONNECT after this")
    parser.add_argument("--allow-clean-session", action="store_true", help="accept clean session 1 (as IoT Hub does)")
    parser.add_argument("--refuse-next", type=int, default=0, help="answer the first N CONNECTs with --refuse-code")
    parser.add_argument("--refuse-code", type=int, default=3)
    parser.add_argument("--exit-with-parent", action="store_true", help="exit when the parent process is gone")
    args = parser.parse_args()
    if args.x509_device and not args.client_ca:
        sys.exit("--x509-device needs --client-ca")
    hub = Hub(args)

    hub.context = server_context(args.cert, args.key, args.client_ca)
    listener, control = open_listeners(args.port)
    print(listener.getsockname()[1])
    print(control.getsockname()[1])
    sys.stdout.flush()
    threading.Thread(target=control_server, args=(hub, control), daemon=True).start()
    if args.exit_with_parent:
        exit_with_parent()

    while True:
        sock, _ = listener.accept()
        with hub.lock:
            hub.connections += 1
            number = hub.connections
        threading.Thread(target=Connection(hub, sock, number).run, daemon=True).start()


if __name__ == "__main__":
    main()
