import Foundation

/// A one-connection TLS (or raw TCP) peer in Python, on 127.0.0.1 and a free port, for tests
/// that need a real socket and a server that misbehaves in a precise way. It prints its port,
/// serves exactly one connection as `mode` says, prints one result line, and exits.
///
/// Modes:
/// - `hello`: reads the ClientHello (raw TCP) and prints the offered cipher suites, then on a
///   second line the offered elliptic curves (supported_groups), each as comma-separated
///   4-digit hex, then closes.
/// - `serve CIPHERS ENDING [CURVE]`: TLS 1.2 server restricted to the OpenSSL cipher string
///   CIPHERS (and to the ECDHE curve CURVE, an OpenSSL name, when given);
///   prints `handshake-ok` or `handshake-failed`, sends `ok` and ends the connection with
///   ENDING: `notify` (close_notify, Python's unwrap), `bare` (TCP close, no close_notify) or
///   `midrecord` (half of an application-data record, then a TCP close).
/// - `trickle-hello MS`: raw TCP; answers the ClientHello with a TLS record header announcing
///   16 KB, then one byte every MS ms (for at most 60 s).
/// - `trickle-record MS`: completes a TLS handshake, then writes a record header announcing
///   16 KB of application data and one byte every MS ms (for at most 60 s).
/// - `sessions COUNT POLICY`: COUNT TLS connections one after the other, each printing
///   `reused`, `new` or `failed` (the server's view of session resumption); POLICY `tickets`,
///   `ids` (session ids only) or `refuse` (nothing resumable).
/// - `slow-reader`: completes a TLS handshake, then reads 256 KB of raw bytes every 20 ms
///   (about 13 MB/s, for at most 60 s): each wait for buffer space is short, the whole is slow.
let peerScript = #"""
import os, socket, ssl, struct, sys, time

mode = sys.argv[1]
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(1)
print(listener.getsockname()[1], flush=True)

if mode == "sessions":
    # COUNT connections, each a TLS 1.2 handshake that prints `reused` or `new` (Python's
    # session_reused, i.e. OpenSSL's view) or `failed`, then sends "ok" and waits for the
    # client's close. POLICY: `tickets` (one context: tickets and the session cache), `ids`
    # (one context, no tickets: session ids only), `refuse` (a new context per connection and
    # no tickets: nothing can be resumed).
    count, policy = int(sys.argv[2]), sys.argv[3]
    def context():
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        c.minimum_version = ssl.TLSVersion.TLSv1_2
        c.maximum_version = ssl.TLSVersion.TLSv1_2
        c.load_cert_chain(os.environ["PEER_CERT"], os.environ["PEER_KEY"])
        if policy != "tickets":
            c.options |= ssl.OP_NO_TICKET
        return c
    shared = context()
    for _ in range(count):
        conn, _ = listener.accept()
        conn.settimeout(30)
        try:
            tls = (shared if policy != "refuse" else context()).wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            print("failed", flush=True)
            conn.close()
            continue
        print("reused" if tls.session_reused else "new", flush=True)
        try:
            tls.sendall(b"ok")
            tls.recv(1)
            tls.unwrap()
        except (ssl.SSLError, OSError):
            pass
        conn.close()
    sys.exit(0)

conn, _ = listener.accept()
conn.settimeout(30)

def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data

def trickle(raw_fd, header, interval_ms):
    os.write(raw_fd, header)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        time.sleep(interval_ms / 1000)
        try:
            os.write(raw_fd, b"\x00")
        except OSError:
            print("peer-gone", flush=True)
            return
    print("trickle-finished", flush=True)

def tls_server(ciphers, curve=None):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(ciphers)
    if curve:
        context.set_ecdh_curve(curve)
    context.load_cert_chain(os.environ["PEER_CERT"], os.environ["PEER_KEY"])
    return context.wrap_socket(conn, server_side=True)

if mode == "hello":
    header = read_exact(conn, 5)
    body = read_exact(conn, struct.unpack(">H", header[3:5])[0])
    assert header[0] == 0x16 and body[0] == 0x01, "not a ClientHello"
    at = 4 + 2 + 32
    at += 1 + body[at]
    count = struct.unpack(">H", body[at:at + 2])[0]
    suites = [struct.unpack(">H", body[at + 2 + i:at + 4 + i])[0] for i in range(0, count, 2)]
    print(",".join("%04X" % s for s in suites), flush=True)
    at += 2 + count
    at += 1 + body[at]
    end = at + 2 + struct.unpack(">H", body[at:at + 2])[0]
    at += 2
    groups = []
    while at + 4 <= end:
        kind, length = struct.unpack(">HH", body[at:at + 4])
        if kind == 10:  # supported_groups (RFC 8422 5.1.1): a 2-byte list length, then 2-byte ids
            groups = [struct.unpack(">H", body[at + 6 + i:at + 8 + i])[0] for i in range(0, length - 2, 2)]
        at += 4 + length
    print(",".join("%04X" % g for g in groups), flush=True)
    conn.close()
elif mode == "serve":
    ciphers, ending = sys.argv[2], sys.argv[3]
    try:
        tls = tls_server(ciphers, sys.argv[4] if len(sys.argv) > 4 else None)
    except (ssl.SSLError, OSError):
        print("handshake-failed", flush=True)
        conn.close()
        sys.exit(0)
    print("handshake-ok", flush=True)
    tls.sendall(b"ok")
    if ending == "notify":
        try:
            tls.unwrap()
        except (ssl.SSLError, OSError):
            pass
        conn.close()
    elif ending == "bare":
        tls.shutdown(socket.SHUT_RDWR)
        tls.close()
    else:
        os.write(tls.fileno(), b"\x17\x03\x03\x00\x40" + b"\x00" * 20)
        tls.shutdown(socket.SHUT_RDWR)
        tls.close()
elif mode == "trickle-hello":
    read_exact(conn, 5)
    trickle(conn.fileno(), b"\x16\x03\x03\x40\x00", int(sys.argv[2]))
elif mode == "slow-reader":
    tls = tls_server("ECDHE-RSA-AES128-GCM-SHA256")
    print("handshake-ok", flush=True)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            if not os.read(tls.fileno(), 262144):
                break
        except BlockingIOError:
            pass
        except OSError:
            break
        time.sleep(0.02)
    print("reader-finished", flush=True)
elif mode == "trickle-record":
    tls = tls_server("ECDHE-RSA-AES128-GCM-SHA256")
    print("handshake-ok", flush=True)
    trickle(tls.fileno(), b"\x17\x03\x03\x40\x00", int(sys.argv[2]))
"""#

/// A running `peerScript`, killed on deinit.
final class ScriptedPeer {
    let process = Process()
    private let output = Pipe()
    /// The port the peer listens on.
    private(set) var port: UInt16 = 0

    struct StartFailed: Error {}

    init(_ arguments: [String], certificates: TestCertificates? = nil) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", peerScript] + arguments
        var environment = ProcessInfo.processInfo.environment
        if let certificates {
            environment["PEER_CERT"] = certificates.serverCertificatePath
            environment["PEER_KEY"] = certificates.serverKeyPath
        }
        process.environment = environment
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard let line = readLine(), let port = UInt16(line) else { throw StartFailed() }
        self.port = port
    }

    deinit {
        // SIGKILL: the child may inherit a blocked SIGTERM from the test runner's thread.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// The next line the peer prints, or nil once it has exited without one.
    func readLine() -> String? {
        var line = Data()
        while true {
            guard let byte = try? output.fileHandleForReading.read(upToCount: 1), let first = byte.first else {
                return line.isEmpty ? nil : String(decoding: line, as: UTF8.self)
            }
            if first == 0x0A { return String(decoding: line, as: UTF8.self) }
            line.append(first)
        }
    }
}
