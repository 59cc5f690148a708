#!/usr/bin/env python3
"""A loopback stand-in for the IoT Hub device REST API (HTTPS), for TinyHub's tests.

Python 3 standard library only. Listens on 127.0.0.1 (port 0 = any free port; the chosen
port is printed as the first line on stdout), TLS with the given certificate, HTTP/1.1
with keep-alive.

Device endpoints (api-version required, Authorization SAS verified with --device-key:
HMAC-SHA256 over the literal `sr` + "\\n" + `se`, `se` in the future, `sr` naming this
device; --x509 skips the check):
  POST   /devices/{id}[/modules/{m}]/messages/events      -> 204
  GET    /devices/{id}/messages/deviceBound               -> 204 empty / 200 + ETag lock
  DELETE /devices/{id}/messages/deviceBound/{etag}        -> 204 complete (412 unknown/expired lock)
  DELETE /devices/{id}/messages/deviceBound/{etag}?…&reject -> 204 reject
  POST   /devices/{id}/messages/deviceBound/{etag}/abandon -> 204 requeue (delivery count + 1)
MQTT over WebSockets on the same port (with --websocket-target-port, as IoT Hub serves it on 443):
  GET    /$iothub/websocket[?iothub-no-client-cert=true]  -> checked and bridged to the MQTT gate on
         that port (TLS, verified with --websocket-target-ca) by websocket_bridge.py (see its doc)
Control endpoints (not recorded, not counted as device connections):
  GET  /_fixture/requests   recorded device requests (method, path, query, headers, body as base64)
  GET  /_fixture/stats      {"connections": device connections, "requests": n, "queue": n, "dead": n}
  POST /_fixture/c2d        enqueue {"body": str, "properties": {k: v}, "messageId": str, ...}
  POST /_fixture/config     {"throttle": n, "retryAfter": s, "throttleStatus": 429|503,
                             "chunked": bool, "closeNext": n, "dropNext": n, "statusNext": [codes], "lockSeconds": s,
                             "clockOffsetS": s (the hub's clock, for SAS expiry and the Date header)}
"""
import argparse, base64, email.utils, hashlib, hmac, json, os, socket, ssl, sys, threading, time, uuid
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import websocket_bridge  # noqa: E402  (MQTT over WebSockets on this port)


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.args = args
        self.requests = []
        self.connections = 0
        self.queue = []          # pending C2D messages
        self.locked = {}         # etag -> (message, expiry)
        self.dead = []
        self.sequence = 0
        self.throttle = args.throttle
        self.retry_after = args.retry_after
        self.throttle_status = 429
        self.clock_offset = args.clock_offset_s  # the hub's clock = real clock + this (SAS expiry and Date)
        self.chunked = args.chunked
        self.close_next = 0
        self.drop_next = 0
        self.status_next = []
        self.lock_seconds = args.lock_seconds
        for m in args.c2d or []:
            self.enqueue(json.loads(m))

    def enqueue(self, spec):
        self.sequence += 1
        self.queue.append({
            "body": spec.get("body", "").encode(),
            "properties": spec.get("properties", {}),
            "messageId": spec.get("messageId", "msg-%d" % self.sequence),
            "correlationId": spec.get("correlationId"),
            "contentType": spec.get("contentType"),
            "contentEncoding": spec.get("contentEncoding"),
            "userId": spec.get("userId"),
            "sequence": self.sequence,
            "deliveryCount": 0,
            "enqueued": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        })


def sas_ok(header, key, host, device, module, now):
    prefix = "SharedAccessSignature "
    if not header or not header.startswith(prefix):
        return False
    fields = {}
    for part in header[len(prefix):].split("&"):
        name, _, value = part.partition("=")
        if name in fields:
            return False
        fields[name] = value
    if not {"sr", "sig", "se"} <= fields.keys():
        return False
    try:
        expiry = int(fields["se"])
    except ValueError:
        return False
    if expiry <= now:
        return False
    resource = urllib.parse.unquote(fields["sr"])
    wanted = "%s/devices/%s" % (host, device) + ("/modules/%s" % module if module else "")
    if resource.lower() != wanted.lower():
        return False
    mac = hmac.new(base64.b64decode(key), (fields["sr"] + "\n" + fields["se"]).encode(), hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(mac).decode(), urllib.parse.unquote(fields["sig"]))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "iothub-fixture"
    sys_version = ""

    def log_message(self, *args):
        pass

    def date_time_string(self, timestamp=None):
        # The Date header reads the hub's clock: a device can set its clock from it.
        return email.utils.formatdate(time.time() + self.server.state.clock_offset, usegmt=True)

    def setup(self):
        super().setup()
        self.device_connection = False

    # --- plumbing -------------------------------------------------------------------
    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status, headers=(), body=b"", chunked=None):
        state = self.server.state
        with state.lock:
            close = state.close_next > 0 and self.device_connection
            if close:
                state.close_next -= 1
            drop = not close and state.drop_next > 0 and self.device_connection
            if drop:
                state.drop_next -= 1
            use_chunked = state.chunked if chunked is None else chunked
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        if drop:  # an idle timeout: the connection goes away after this answer, unannounced
            self.close_connection = True
        if status in (204, 304):
            self.end_headers()
        elif use_chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = len(body) // 2
            for piece in (body[:half], body[half:]):
                if piece:
                    self.wfile.write(b"%x;ext=1\r\n" % len(piece) + piece + b"\r\n")
            self.wfile.write(b"0\r\nX-Trailer: t\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        self.wfile.flush()

    def json_reply(self, status, value):
        self.reply(status, [("Content-Type", "application/json")], json.dumps(value).encode(), chunked=False)

    def error(self, status, code, message):
        body = json.dumps({"Message": json.dumps({"errorCode": code, "message": message}), "ExceptionMessage": ""}).encode()
        self.reply(status, [("Content-Type", "application/json; charset=utf-8")], body)

    # --- dispatch -------------------------------------------------------------------
    def do_GET(self): self.dispatch()
    def do_POST(self): self.dispatch()
    def do_DELETE(self): self.dispatch()
    def do_PUT(self): self.dispatch()

    def dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/$iothub/websocket" and self.server.websocket is not None:
            return self.websocket()
        body = self.read_body()
        if url.path.startswith("/_fixture/"):
            return self.control(url.path, body)
        state = self.server.state
        with state.lock:
            if not self.device_connection:
                self.device_connection = True
                state.connections += 1
            state.requests.append({
                "method": self.command, "path": url.path, "query": url.query, "target": self.path,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body": base64.b64encode(body).decode(),
            })
            forced = state.status_next.pop(0) if state.status_next else None
            throttled = state.throttle > 0
            if throttled:
                state.throttle -= 1
        if forced:
            return self.error(forced, forced * 1000 + 1, "forced by the fixture")
        if throttled:
            self.send_throttle()
            return
        self.device(url, body)

    def websocket(self):
        """Hands the connection to the WebSocket bridge; it ends with the bridged connection."""
        self.close_connection = True
        endpoint = self.server.websocket
        headers = {name.lower(): value for name, value in self.headers.items()}
        websocket_bridge.serve_upgrade(endpoint, self.connection, endpoint.next_number(), self.command, self.path,
                                       self.request_version, headers, False, False)

    def send_throttle(self):
        state = self.server.state
        status = state.throttle_status
        self.reply(status, [("Retry-After", str(state.retry_after)), ("Content-Type", "application/json")],
                   json.dumps({"Message": "throttled"}).encode())

    def device(self, url, body):
        args = self.server.state.args
        segments = [urllib.parse.unquote(s) for s in url.path.split("/")[1:]]
        query = url.query.split("&")
        if "api-version=2020-03-13" not in query:
            return self.error(400, 400001, "api-version missing or unexpected")
        if len(segments) < 2 or segments[0] != "devices":
            return self.error(404, 404000, "no such endpoint")
        if segments[1] != args.device:
            return self.error(404, 404001, "DeviceNotFound")
        module = None
        rest = segments[2:]
        if len(rest) >= 2 and rest[0] == "modules":
            module, rest = rest[1], rest[2:]
        if not args.x509 and not sas_ok(self.headers.get("Authorization"), args.device_key, args.host, args.device, module,
                                           time.time() + self.server.state.clock_offset):
            return self.error(401, 401003, "IoTHubUnauthorized")
        if rest == ["messages", "events"] and self.command == "POST":
            return self.reply(204)
        if module is None and rest[:2] == ["messages", "deviceBound"]:
            return self.c2d(rest[2:], query)
        return self.error(404, 404000, "no such endpoint")

    def c2d(self, rest, query):
        state = self.server.state
        now = time.time()
        with state.lock:
            for etag, (message, expiry) in list(state.locked.items()):
                if expiry <= now:   # lock expired: back to the queue, delivery count unchanged
                    del state.locked[etag]
                    state.queue.insert(0, message)
            if not rest and self.command == "GET":
                if not state.queue:
                    answer = (204, None)
                else:
                    message = state.queue.pop(0)
                    message["deliveryCount"] += 1
                    etag = str(uuid.uuid4())
                    state.locked[etag] = (message, now + state.lock_seconds)
                    answer = (200, (etag, message))
            else:
                etag = rest[0] if rest else ""
                if_match = self.headers.get("If-Match")
                held = state.locked.get(etag)
                abandon = rest[1:] == ["abandon"] and self.command == "POST"
                delete = len(rest) == 1 and self.command == "DELETE"
                if not (abandon or delete):
                    answer = (404, None)
                elif held is None or (if_match is not None and if_match != '"%s"' % etag):
                    answer = (412, None)
                else:
                    del state.locked[etag]
                    message = held[0]
                    if abandon:
                        state.queue.insert(0, message)
                    elif "reject" in query:
                        state.dead.append(message)
                    answer = (204, None)
        status, detail = answer
        if status == 204:
            return self.reply(204)
        if status == 412:
            return self.error(412, 412002, "DeviceMessageLockLost")
        if status == 404:
            return self.error(404, 404000, "no such endpoint")
        etag, m = detail
        headers = [("ETag", '"%s"' % etag), ("iothub-messageid", m["messageId"]),
                   ("iothub-sequencenumber", str(m["sequence"])),
                   ("iothub-to", "/devices/%s/messages/deviceBound" % self.server.state.args.device),
                   ("iothub-expiry", ""), ("iothub-deliverycount", str(m["deliveryCount"])),
                   ("iothub-enqueuedtime", m["enqueued"])]
        for key, name in (("correlationId", "iothub-correlationid"), ("userId", "iothub-userid"),
                          ("contentType", "ContentType"), ("contentEncoding", "ContentEncoding")):
            if m.get(key) is not None:
                headers.append((name, m[key]))
        for name, value in m["properties"].items():
            headers.append(("iothub-app-" + name, value))
        self.reply(200, headers, m["body"])

    def control(self, path, body):
        state = self.server.state
        with state.lock:
            if path == "/_fixture/requests":
                value = list(state.requests)
            elif path == "/_fixture/stats":
                value = {"connections": state.connections, "requests": len(state.requests),
                         "queue": len(state.queue), "locked": len(state.locked), "dead": len(state.dead)}
            elif path == "/_fixture/c2d" and self.command == "POST":
                state.enqueue(json.loads(body or b"{}"))
                value = {"queue": len(state.queue)}
            elif path == "/_fixture/config" and self.command == "POST":
                config = json.loads(body or b"{}")
                state.throttle = config.get("throttle", state.throttle)
                state.retry_after = config.get("retryAfter", state.retry_after)
                state.throttle_status = config.get("throttleStatus", state.throttle_status)
                state.chunked = config.get("chunked", state.chunked)
                state.close_next = config.get("closeNext", state.close_next)
                state.drop_next = config.get("dropNext", state.drop_next)
                state.status_next = list(config.get("statusNext", state.status_next))
                state.lock_seconds = config.get("lockSeconds", state.lock_seconds)
                state.clock_offset = config.get("clockOffsetS", state.clock_offset)
                value = {"ok": True}
            else:
                value = None
        if value is None:
            return self.json_reply(404, {"Message": "unknown fixture endpoint"})
        self.json_reply(200, value)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, context, state):
        self.context = context
        self.state = state
        self.websocket = None  # a websocket_bridge.Endpoint with --websocket-target-port
        super().__init__(address, Handler)

    def get_request(self):
        sock, address = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def finish_request(self, request, client_address):
        try:
            request.settimeout(30)
            request.do_handshake()
        except (ssl.SSLError, OSError):
            request.close()
            return
        super().finish_request(request, client_address)

    def shutdown_request(self, request):
        # End every TLS connection with close_notify (unwrap) before the TCP close, as a real
        # server does: a client treats a bare TCP close as a truncation, not as the end.
        try:
            request.settimeout(1)
            request.unwrap()
        except (ssl.SSLError, OSError, ValueError):
            pass
        super().shutdown_request(request)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--host", required=True, help="hub HostName the SAS `sr` must name")
    parser.add_argument("--device", required=True)
    parser.add_argument("--device-key", default="", help="base64 device key for SAS verification")
    parser.add_argument("--x509", action="store_true", help="skip SAS verification")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--c2d", action="append", help="JSON message to enqueue (repeatable)")
    parser.add_argument("--throttle", type=int, default=0, help="answer the next N device requests with 429")
    parser.add_argument("--retry-after", type=int, default=5)
    parser.add_argument("--chunked", action="store_true", help="send response bodies chunked")
    parser.add_argument("--lock-seconds", type=float, default=60.0)
    parser.add_argument("--clock-offset-s", type=float, default=0.0, help="the hub's clock = real clock + this")
    parser.add_argument("--websocket-target-port", type=int, help="bridge /$iothub/websocket to this MQTT gate port")
    parser.add_argument("--websocket-target-ca", help="CA of the gate's certificate (TLS to localhost)")
    parser.add_argument("--websocket-log", help="the WebSocket bridge's JSON-lines record")
    parser.add_argument("--exit-on-stdin-eof", action="store_true", help="exit when stdin closes (test harnesses)")
    args = parser.parse_args()

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(args.cert, args.key)
    server = Server(("127.0.0.1", args.port), context, State(args))
    if args.websocket_target_port:
        server.websocket = websocket_bridge.Endpoint(args.websocket_log, {}, args.websocket_target_port, args.websocket_target_ca)
    print(server.server_address[1], flush=True)
    if args.exit_on_stdin_eof:
        def watch():
            sys.stdin.buffer.read()   # returns when the parent closes the pipe or dies
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
