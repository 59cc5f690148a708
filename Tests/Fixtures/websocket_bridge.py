#!/usr/bin/env python3
"""IoT Hub's MQTT-over-WebSockets endpoint on loopback, bridging to an MQTT server, for TinyHub's tests.

Python 3 standard library only. Written from RFC 6455 and IoT Hub's documented endpoint
(`wss://{hub}:443/$iothub/websocket`, `?iothub-no-client-cert=true` for SAS devices, subprotocol
`mqtt`, MQTT 3.1.1 in binary frames), not from TinyHub.

Standalone: a TLS server on 127.0.0.1 (--port, 0 = any free port). Stdout: line 1 = the device
port, line 2 = the control port. Also used as a module by iothub_https_fixture.py, which hands it
`GET /$iothub/websocket` requests on the HTTPS port (`check_upgrade`, `Bridge`).

Upgrade (RFC 6455 §4.2.1, as IoT Hub checks it): `GET` `HTTP/1.1`, path `/$iothub/websocket`,
query empty (X.509: with --client-ca, a verified client certificate is required, else 401) or
exactly `iothub-no-client-cert=true`; `Host` present (and equal to --host when given);
`Upgrade: websocket`; `Connection` listing `Upgrade`; `Sec-WebSocket-Version: 13` (else 426);
`Sec-WebSocket-Key` the base64 of 16 bytes; `Sec-WebSocket-Protocol` listing `mqtt`. A wrong
path is 404, anything else wrong 400 (401 for a missing certificate); the connection then closes.
Accepted: 101 with `Sec-WebSocket-Accept` = base64(SHA-1(key + 258EAFA5-E914-47DA-95CA-C5AB0DC85B11))
and `Sec-WebSocket-Protocol: mqtt`, then a connection to the target (--target-port on 127.0.0.1;
TLS for `localhost` verified with --target-ca when given, plain TCP otherwise).

Frames from the device (§5.1-§5.5) must be masked, with RSV bits clear, a known opcode, binary or
continuation data (text is refused), control frames of at most 125 bytes and never fragmented,
lengths in the fewest bytes, and a coherent fragmentation sequence. A violation is recorded and
answered with close 1002, then the connection ends. Binary/continuation payloads go to the target
byte for byte; pings are answered with pongs; a close is answered with the same status.

Frames to the device are never masked. How the target's bytes are framed is configurable (--config
JSON at start, or {"config": {...}} on the control port, for connections opened afterwards):
  frame_size  N > 0: at most N payload bytes per frame (1 puts every byte in a frame of its own;
              a packet then spans many frames); 0 (default): one frame per chunk read from the target
  coalesce_ms M > 0: gather the target's bytes for M ms before framing (a frame holds several packets)
  fragmented  true: the frames of one chunk form one fragmented message (binary, FIN clear, then
              continuation frames); false (default): each frame is a whole binary message
  pings       true: a ping (payload: a counter) before every data frame; pongs are checked against it
  write_size  N > 0: the frames' bytes are written in TLS records of at most N bytes (frame headers
              split across reads); 0 (default): one write per frame

Control port (one JSON object per line in, one JSON line out {"ok": true, ...}):
  {"config": {...}}      framing for new connections (see above)
  {"cut": true}          every device connection is cut: TCP closed at once, no close frame
  {"send_hex": "8281.."} these raw bytes go to every device connection (e.g. a hostile frame)
  {"ping": "text"}       a ping with this payload to every device connection
  {"close": 1001}        a close frame with this status to every device connection (then it waits
                         for the device's close, at most 2 s, and ends the connection)
  {"stats": true}        {"connections", "accepted", "active"}

Record (--log FILE), one JSON object per line: every record has `conn` and `event`:
  upgrade   path, query, host, key, version, protocols, accepted, status, reason (null or a word:
            method, version-http, path, query, host, upgrade, connection, ws-version, key, protocol,
            client-certificate, target-unreachable)
  frame     dir "up", opcode, fin, length, masked, mask (hex)     (every data and control frame)
  pong      payload (text), expected (it answers a ping sent)
  violation reason, detail                                          (then close 1002)
  close     initiator (device, server, cut, target, violation, error), status (or null)
"""
import argparse, base64, hashlib, json, os, select, socket, ssl, sys, threading, time, urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iothub_mqtt_gate import exit_with_parent, open_listeners, serve_control, server_context  # noqa: E402

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
HEAD_LIMIT = 16384
MAX_FRAME = 1 << 20
DEFAULT_CONFIG = {"frame_size": 0, "coalesce_ms": 0, "fragmented": False, "pings": False, "write_size": 0}


def accept_value(key):
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + GUID).digest()).decode("ascii")


def tokens(value):
    return [t.strip().lower() for t in (value or "").split(",") if t.strip()]


def check_upgrade(method, target, version, headers, has_client_certificate, require_certificate, host=None):
    """(status, reason, details) for an upgrade request; status 101 means accepted.
    `headers` maps lower-case names to values."""
    url = urllib.parse.urlsplit(target)
    details = {"path": url.path, "query": url.query, "host": headers.get("host"), "key": headers.get("sec-websocket-key"),
               "version": headers.get("sec-websocket-version"), "protocols": headers.get("sec-websocket-protocol")}
    if method != "GET":
        return 400, "method", details
    if version != "HTTP/1.1":
        return 400, "version-http", details
    if url.path != "/$iothub/websocket":
        return 404, "path", details
    if url.query not in ("", "iothub-no-client-cert=true"):
        return 400, "query", details
    if not headers.get("host") or (host and headers["host"].split(":")[0] != host):
        return 400, "host", details
    if headers.get("upgrade", "").lower() != "websocket":
        return 400, "upgrade", details
    if "upgrade" not in tokens(headers.get("connection")):
        return 400, "connection", details
    if headers.get("sec-websocket-version") != "13":
        return 426, "ws-version", details
    try:
        if len(base64.b64decode(headers.get("sec-websocket-key", ""), validate=True)) != 16:
            return 400, "key", details
    except ValueError:
        return 400, "key", details
    if "mqtt" not in tokens(headers.get("sec-websocket-protocol")):
        return 400, "protocol", details
    if url.query == "" and require_certificate and not has_client_certificate:
        return 401, "client-certificate", details
    return 101, None, details


def upgrade_answer(status, key):
    if status == 101:
        return ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n" % accept_value(key)).encode()
    extra = "Sec-WebSocket-Version: 13\r\n" if status == 426 else ""
    return ("HTTP/1.1 %d Refused\r\nContent-Length: 0\r\nConnection: close\r\n%s\r\n" % (status, extra)).encode()


def encode_frame(opcode, payload, fin=True):
    """A server frame: never masked (§5.1)."""
    head = bytearray([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head.append(n)
    elif n <= 0xFFFF:
        head += bytes([126]) + n.to_bytes(2, "big")
    else:
        head += bytes([127]) + n.to_bytes(8, "big")
    return bytes(head) + bytes(payload)


class Violation(Exception):
    def __init__(self, reason, detail=""):
        super().__init__(reason)
        self.reason, self.detail = reason, detail


class FrameReader:
    """Incremental reader of client frames, checking each as a server must."""

    def __init__(self):
        self.buffer = bytearray()
        self.in_message = False

    def feed(self, data):
        self.buffer += data
        frames = []
        while True:
            b = self.buffer
            if len(b) < 2:
                return frames
            fin, rsv, opcode = b[0] & 0x80 != 0, b[0] & 0x70, b[0] & 0x0F
            masked, code = b[1] & 0x80 != 0, b[1] & 0x7F
            if rsv:
                raise Violation("reserved-bits", "first byte %#04x" % b[0])
            if opcode not in (0, 1, 2, 8, 9, 10):
                raise Violation("unknown-opcode", "opcode %d" % opcode)
            if not masked:
                raise Violation("unmasked-client-frame", "opcode %d" % opcode)
            at = 2
            if code == 126:
                if len(b) < 4:
                    return frames
                length, at = int.from_bytes(b[2:4], "big"), 4
                if length < 126:
                    raise Violation("non-minimal-length", "16-bit length %d" % length)
            elif code == 127:
                if len(b) < 10:
                    return frames
                length, at = int.from_bytes(b[2:10], "big"), 10
                if length <= 0xFFFF or length >> 63:
                    raise Violation("non-minimal-length", "64-bit length %d" % length)
            else:
                length = code
            if opcode >= 8 and (length > 125 or not fin):
                raise Violation("bad-control-frame", "opcode %d length %d fin %s" % (opcode, length, fin))
            if length > MAX_FRAME:
                raise Violation("frame-too-long", "length %d" % length)
            if len(b) < at + 4 + length:
                return frames
            mask = bytes(b[at:at + 4])
            payload = bytes(x ^ mask[i % 4] for i, x in enumerate(b[at + 4:at + 4 + length]))
            del self.buffer[:at + 4 + length]
            if opcode == 1:
                raise Violation("text-frame", "MQTT travels in binary frames")
            if opcode == 0 and not self.in_message:
                raise Violation("unexpected-continuation", "")
            if opcode == 2 and self.in_message:
                raise Violation("expected-continuation", "")
            if opcode in (0, 2):
                self.in_message = not fin
            frames.append((fin, opcode, mask, payload))


class Endpoint:
    """What the bridges share: configuration, record, active connections."""

    def __init__(self, log=None, config=None, target_port=None, target_ca=None):
        self.lock = threading.Lock()
        self.log_path = log
        self.config = dict(DEFAULT_CONFIG, **(config or {}))
        self.target_port = target_port
        self.target_ca = target_ca
        self.connections = 0
        self.accepted = 0
        self.active = set()

    def next_number(self):
        with self.lock:
            self.connections += 1
            return self.connections

    def record(self, conn, event, **fields):
        if not self.log_path:
            return
        with self.lock:
            with open(self.log_path, "a") as f:
                f.write(json.dumps(dict(conn=conn, event=event, **fields)) + "\n")

    def open_target(self):
        sock = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
        if self.target_ca:
            context = ssl.create_default_context(cafile=self.target_ca)
            # TLS 1.2, as the device speaks it: a TLS 1.3 server sends its session tickets after the
            # handshake, which makes the socket readable with no data, and the pump's blocking read
            # of the target would then wait out its timeout (10 s) with the device's commands queued.
            context.maximum_version = ssl.TLSVersion.TLSv1_2
            sock = context.wrap_socket(sock, server_hostname="localhost")
        return sock

    def control(self, command):
        reply = {"ok": True}
        with self.lock:
            active = list(self.active)
            if "config" in command:
                self.config.update(command["config"])
        for bridge in active:  # carried out by each bridge's own thread (an SSL socket is not thread-safe)
            bridge.enqueue(command)
        with self.lock:
            reply.update(connections=self.connections, accepted=self.accepted, active=len(self.active))
        return reply


class Bridge:
    """One accepted WebSocket connection: device frames to the target, target bytes to the device."""

    def __init__(self, endpoint, sock, number):
        self.endpoint = endpoint
        self.sock = sock
        self.number = number
        self.config = dict(endpoint.config)
        self.reader = FrameReader()
        self.send_lock = threading.Lock()
        self.pings = []
        self.ping_counter = 0
        self.closing = None      # (status, deadline) once we sent a close
        self.was_cut = False
        self.commands = []
        self.commands_lock = threading.Lock()

    def record(self, event, **fields):
        self.endpoint.record(self.number, event, **fields)

    # --- to the device --------------------------------------------------------------------
    def write(self, data):
        size = self.config.get("write_size") or len(data) or 1
        with self.send_lock:
            for i in range(0, len(data), size):
                self.sock.sendall(data[i:i + size])

    def send_raw(self, data):
        try:
            self.write(data)
        except (OSError, ssl.SSLError):
            pass

    def send_ping(self, payload):
        with self.send_lock:
            self.pings.append(bytes(payload))
        self.send_raw(encode_frame(0x9, payload))

    def frames_for(self, data):
        size = self.config.get("frame_size") or len(data)
        pieces = [data[i:i + size] for i in range(0, len(data), size)]
        out = bytearray()
        fragmented = self.config.get("fragmented") and len(pieces) > 1
        for i, piece in enumerate(pieces):
            if self.config.get("pings"):
                self.ping_counter += 1
                payload = b"p%d" % self.ping_counter
                with self.send_lock:
                    self.pings.append(payload)
                out += encode_frame(0x9, payload)
            opcode = (0x2 if i == 0 else 0x0) if fragmented else 0x2
            fin = (i == len(pieces) - 1) if fragmented else True
            out += encode_frame(opcode, piece, fin)
        return bytes(out)

    def start_close(self, status):
        if self.closing is None:
            self.closing = (status, time.time() + 2)
            self.send_raw(encode_frame(0x8, status.to_bytes(2, "big")))

    def enqueue(self, command):
        with self.commands_lock:
            self.commands.append(command)

    def run_commands(self):
        with self.commands_lock:
            commands, self.commands = self.commands, []
        for command in commands:
            if command.get("cut"):
                self.cut()
            if "send_hex" in command:
                self.send_raw(bytes.fromhex(command["send_hex"]))
            if "ping" in command:
                self.send_ping(command["ping"].encode())
            if "close" in command:
                self.start_close(int(command["close"]))

    def cut(self):
        self.was_cut = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # --- the pump -------------------------------------------------------------------------
    def register(self):
        """Makes this connection one that control commands reach."""
        with self.endpoint.lock:
            self.endpoint.active.add(self)
            self.endpoint.accepted += 1

    def run(self, target):
        try:
            self.pump(target)
        except Exception as error:  # a fixture bug must not kill the endpoint
            self.record("close", initiator="error", status=None, detail=repr(error))
        finally:
            with self.endpoint.lock:
                self.endpoint.active.discard(self)
            for s in (target, self.sock):
                try:
                    s.close()
                except OSError:
                    pass

    def pump(self, target):
        # Blocking with a timeout: select says when to read; a TLS record read may wait for its end.
        self.sock.settimeout(10)
        target.settimeout(10)
        pending = bytearray()
        pending_since = None
        while True:
            self.run_commands()
            if self.closing and time.time() > self.closing[1]:
                self.record("close", initiator="server", status=self.closing[0], detail="no close from the device")
                return
            coalesce = self.config.get("coalesce_ms", 0) / 1000.0
            if pending and (not coalesce or time.time() - pending_since >= coalesce):
                self.write(self.frames_for(bytes(pending)))
                pending.clear()
            readers = [self.sock] + ([target] if self.closing is None else [])
            if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
                ready = [self.sock]
            else:
                ready, _, _ = select.select(readers, [], [], 0.05)
            if self.sock in ready:
                try:
                    data = self.sock.recv(65536)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError, socket.timeout):
                    data = None
                except (OSError, ssl.SSLError) as error:
                    self.record("close", initiator="cut" if self.was_cut else "device", status=None, detail=str(error))
                    return
                if data == b"":
                    self.record("close", initiator="cut" if self.was_cut else "device", status=None, detail="TCP closed")
                    return
                if data and self.from_device(data, target):
                    return
            if target in ready:
                try:
                    data = target.recv(65536)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError, socket.timeout):
                    data = None
                except (OSError, ssl.SSLError):
                    data = b""
                if data == b"":
                    if pending:
                        self.write(self.frames_for(bytes(pending)))
                        pending.clear()
                    self.start_close(1000)
                elif data:
                    if not pending:
                        pending_since = time.time()
                    pending += data

    def from_device(self, data, target):
        """Handles device bytes; returns True when the connection is over."""
        try:
            frames = self.reader.feed(data)
        except Violation as violation:
            self.record("violation", reason=violation.reason, detail=violation.detail)
            self.send_raw(encode_frame(0x8, (1002).to_bytes(2, "big")))
            self.record("close", initiator="violation", status=1002)
            return True
        for fin, opcode, mask, payload in frames:
            self.record("frame", dir="up", opcode=opcode, fin=fin, length=len(payload), masked=True, mask=mask.hex())
            if opcode in (0, 2):
                target.sendall(payload)
            elif opcode == 0x9:
                self.send_raw(encode_frame(0xA, payload))
            elif opcode == 0xA:
                with self.send_lock:
                    expected = payload in self.pings
                    if expected:
                        self.pings.remove(payload)
                self.record("pong", payload=payload.decode("latin-1"), expected=expected)
            elif opcode == 0x8:
                status = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
                if self.closing is None:  # the device closes: answer with the same status (§5.5.1)
                    # Recorded before the answer: the device may be gone (and its test reading the
                    # record) as soon as the answer reaches it.
                    self.record("close", initiator="device", status=status)
                    self.send_raw(encode_frame(0x8, payload[:2]))
                else:
                    self.record("close", initiator="server", status=self.closing[0], reply=status)
                return True
        return False


def read_head(sock):
    """The request head (bytes up to the empty line) and what follows it, or (None, b"")."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > HEAD_LIMIT:
            return None, b""
        chunk = sock.recv(4096)
        if not chunk:
            return None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def parse_head(head):
    """The request line split at spaces, and the headers by lowercased name (the last one wins)."""
    lines = head.split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0].split(" "), headers


def serve_upgrade(endpoint, sock, number, method, target, version, headers, has_certificate, require_certificate, host=None):
    """Checks an upgrade request, answers it, and bridges until the connection ends. `sock` is
    the device's (TLS) socket, positioned right after the request head."""
    status, reason, details = check_upgrade(method, target, version, headers, has_certificate, require_certificate, host)
    upstream = None
    if status == 101:
        try:
            upstream = endpoint.open_target()
        except (OSError, ssl.SSLError):
            status, reason = 503, "target-unreachable"
    endpoint.record(number, "upgrade", accepted=status == 101, status=status, reason=reason, **details)
    bridge = None
    if upstream is not None:
        # Active before the device hears the 101: a control command sent as soon as the device's
        # open returns (send_hex, close...) must find this connection.
        bridge = Bridge(endpoint, sock, number)
        bridge.register()
    sock.sendall(upgrade_answer(status, headers.get("sec-websocket-key", "")))
    if bridge is None:
        return
    bridge.run(upstream)


def handle(endpoint, args, raw, number):
    try:
        raw.settimeout(10)
        sock = endpoint.context.wrap_socket(raw, server_side=True)
        head, _ = read_head(sock)
        if head is None:
            return
        parts, headers = parse_head(head)
        if len(parts) != 3:
            sock.sendall(upgrade_answer(400, ""))
            return
        serve_upgrade(endpoint, sock, number, parts[0], parts[1], parts[2], headers, sock.getpeercert() is not None,
                      bool(args.client_ca), args.host)
    except (OSError, ssl.SSLError):
        pass
    finally:
        try:
            raw.close()
        except OSError:
            pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cert", required=True, help="server certificate (PEM)")
    parser.add_argument("--key", required=True, help="server key (PEM)")
    parser.add_argument("--client-ca", help="CA for device certificates: an upgrade without the SAS query needs one")
    parser.add_argument("--host", help="the Host the upgrade must name (default: any)")
    parser.add_argument("--target-port", type=int, required=True, help="the MQTT server's port on 127.0.0.1")
    parser.add_argument("--target-ca", help="connect to the target over TLS (name localhost), verified with this CA")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", help="JSON-lines record")
    parser.add_argument("--config", default="{}", help="framing configuration (JSON, see above)")
    parser.add_argument("--exit-with-parent", action="store_true")
    args = parser.parse_args()
    endpoint = Endpoint(args.log, json.loads(args.config), args.target_port, args.target_ca)
    endpoint.context = server_context(args.cert, args.key, args.client_ca)
    listener, control = open_listeners(args.port)
    print(listener.getsockname()[1])
    print(control.getsockname()[1])
    sys.stdout.flush()
    threading.Thread(target=serve_control, args=(control, endpoint.control), daemon=True).start()
    if args.exit_with_parent:
        exit_with_parent()
    while True:
        raw, _ = listener.accept()
        threading.Thread(target=handle, args=(endpoint, args, raw, endpoint.next_number()), daemon=True).start()


if __name__ == "__main__":
    main()
