#!/usr/bin/env python3
"""A small HTTP CONNECT proxy on loopback, for TinyHub's tests, demos and CLI contract.

Python 3 standard library only. Listens on 127.0.0.1 (--port, 0 = any free port; the chosen port
is printed as the first line on stdout). Written from RFC 9110 §9.3.6 (CONNECT), RFC 9112 §3.2.3
(authority form) and RFC 7617 (Basic), not from TinyHub.

Per connection it reads the request head (at most 8 KB, 10 s), then, by --mode:
  tunnel    (default) checks the request and opens the tunnel:
              - the request line must be `CONNECT host:port HTTP/1.1` (else 400), `Host` present
                (else 400); the destination must be loopback (localhost, 127.0.0.1, ::1; else 403);
              - with --user, `Proxy-Authorization: Basic base64(user:password)` must match --user
                and --password (else 407 with `Proxy-Authenticate: Basic realm="tinyhub-test"`);
              - a destination that cannot be reached: 502;
              - else `HTTP/1.1 200 Connection established`, then bytes are relayed both ways
                until either side closes.
  status    answers every CONNECT with --status (e.g. 407, 403, 502) and a short body, then closes.
  trickle   sends `HTTP/1.1 200 Connection established\\r\\n` and then an endless header line, one
            byte every --trickle-ms (default 100): the answer never ends.
  garbage   answers with bytes that are not HTTP (an SSH banner and binary), then closes.
  oversize  a valid 200 answer whose header block is 16 KB (more than a small device buffers).
  early     a valid 200 answer followed at once by bytes the destination never sent.
Refusals close the connection after the answer.

--log FILE: one JSON object per line and per request, written when the answer is sent:
  conn (number, from 1), request_line, host (the Host header or null), authorization (the
  Proxy-Authorization header as sent, or null), user and password (decoded from a Basic header, or
  null), destination ("host:port" as requested), status (the status answered; null in the modes
  that send no status), mode.
"""
import argparse, base64, json, os, socket, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iothub_mqtt_gate import exit_with_parent  # noqa: E402  (one copy of the stand-ins' parent watch)

HEAD_LIMIT = 8192
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class Proxy:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.connections = 0

    def log(self, record):
        if not self.args.log:
            return
        with self.lock:
            with open(self.args.log, "a") as f:
                f.write(json.dumps(record) + "\n")
                f.flush()


def read_head(sock):
    """The request head up to and including the empty line, or None (closed, too long, too slow)."""
    sock.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = sock.recv(1024)
        except OSError:
            return None
        if not chunk or len(data) + len(chunk) > HEAD_LIMIT:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def parse_authority(target):
    """(host, port) of `host:port` or `[v6]:port`, or None."""
    if target.startswith("["):
        host, sep, rest = target[1:].partition("]")
        if not sep or not rest.startswith(":"):
            return None
        port = rest[1:]
    else:
        host, sep, port = target.rpartition(":")
        if not sep:
            return None
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host, int(port)


def answer(sock, status, reason, headers=(), body=b""):
    lines = ["HTTP/1.1 %d %s" % (status, reason)] + ["%s: %s" % h for h in headers]
    lines.append("Content-Length: %d" % len(body))
    lines.append("Connection: close")
    try:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    except OSError:
        pass


def relay(a, b):
    """Copies bytes from a to b until a closes; then shuts b's write side."""
    try:
        while True:
            chunk = a.recv(16384)
            if not chunk:
                break
            b.sendall(chunk)
    except OSError:
        pass
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def handle(proxy, sock, number):
    args = proxy.args
    record = {"conn": number, "mode": args.mode, "request_line": None, "host": None, "authorization": None,
              "user": None, "password": None, "destination": None, "status": None}
    try:
        got = read_head(sock)
        if got is None:
            record["request_line"] = None
            proxy.log(record)
            return
        head, early = got
        lines = head.split("\r\n")
        record["request_line"] = lines[0]
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers.append((name.strip(), value.strip()))
        fields = {name.lower(): value for name, value in headers}
        record["host"] = fields.get("host")
        record["authorization"] = fields.get("proxy-authorization")
        auth = record["authorization"]
        if auth and auth.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(auth[6:], validate=True).decode("utf-8").partition(":")
                record["user"], record["password"] = user, password
            except (ValueError, UnicodeDecodeError):
                pass
        parts = lines[0].split(" ")
        if len(parts) == 3:
            record["destination"] = parts[1]

        if args.mode == "status":
            record["status"] = args.status
            proxy.log(record)
            answer(sock, args.status, "Refused by the test proxy",
                   [("Proxy-Authenticate", 'Basic realm="tinyhub-test"')] if args.status == 407 else [],
                   b"<html><body>refused</body></html>\n")
            return
        if args.mode == "trickle":
            proxy.log(record)
            sock.sendall(b"HTTP/1.1 200 Connection established\r\n")
            for byte in b"X-Trickle: " + b"a" * 1_000_000:
                time.sleep(args.trickle_ms / 1000.0)
                sock.sendall(bytes([byte]))
            return
        if args.mode == "garbage":
            proxy.log(record)
            sock.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\x00\x01\x02\xff\xfe binary \x16\x03\x03\x00\x02\x02\x28")
            return
        if args.mode in ("oversize", "early"):
            proxy.log(record)
            if args.mode == "oversize":
                sock.sendall(b"HTTP/1.1 200 Connection established\r\n"
                             + b"".join(b"X-Pad-%03d: %s\r\n" % (i, b"p" * 100) for i in range(150)) + b"\r\n")
            else:
                sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\nearly bytes the destination never sent")
            sock.settimeout(5)  # then wait for the client to give up
            try:
                sock.recv(1)
            except OSError:
                pass
            return

        # tunnel
        def refuse(status, reason, extra=()):
            record["status"] = status
            proxy.log(record)
            answer(sock, status, reason, extra, b"refused\n")

        if len(parts) != 3 or parts[0] != "CONNECT" or parts[2] != "HTTP/1.1" or record["host"] is None:
            return refuse(400, "Bad Request")
        authority = parse_authority(parts[1])
        if authority is None:
            return refuse(400, "Bad Request")
        host, port = authority
        if host not in LOOPBACK:
            return refuse(403, "Forbidden")
        if args.user is not None:
            expected = "Basic " + base64.b64encode(("%s:%s" % (args.user, args.password or "")).encode()).decode()
            if auth != expected:
                return refuse(407, "Proxy Authentication Required", [("Proxy-Authenticate", 'Basic realm="tinyhub-test"')])
        try:
            upstream = socket.create_connection((host, port), timeout=5)
        except OSError:
            return refuse(502, "Bad Gateway")
        upstream.settimeout(None)
        sock.settimeout(None)
        record["status"] = 200
        proxy.log(record)
        sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        if early:
            upstream.sendall(early)
        down = threading.Thread(target=relay, args=(upstream, sock), daemon=True)
        down.start()
        relay(sock, upstream)
        down.join()
        upstream.close()
    except OSError:
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mode", choices=["tunnel", "status", "trickle", "garbage", "oversize", "early"], default="tunnel")
    parser.add_argument("--status", type=int, default=407, help="the answer in --mode status")
    parser.add_argument("--user", help="require Basic credentials with this user name")
    parser.add_argument("--password", help="... and this password (default empty)")
    parser.add_argument("--trickle-ms", type=float, default=100.0)
    parser.add_argument("--log", help="JSON lines, one per request")
    parser.add_argument("--exit-with-parent", action="store_true", help="exit when the parent process is gone")
    args = parser.parse_args()
    proxy = Proxy(args)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(64)
    print(listener.getsockname()[1])
    sys.stdout.flush()
    if args.exit_with_parent:
        exit_with_parent()

    while True:
        sock, _ = listener.accept()
        with proxy.lock:
            proxy.connections += 1
            number = proxy.connections
        threading.Thread(target=handle, args=(proxy, sock, number), daemon=True).start()


if __name__ == "__main__":
    main()
