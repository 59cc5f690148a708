import Foundation
import Testing
@testable import TinyHub
import TinyPlatform
import TinyTLS

/// A close-delimited HTTPS body (no Content-Length, no chunking) ends only with the server's
/// close_notify. A bare TCP close cuts it short: the HTTPS client must report
/// `.transport(.truncated)` rather than hand out the cut body as a whole C2D message.
/// The server is Python's `ssl` on 127.0.0.1 with the test PKI; it answers one GET.
@Suite struct TLSTruncationTests {
    static let server = #"""
import os, socket, ssl, sys
ending = sys.argv[1]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(os.environ["PEER_CERT"], os.environ["PEER_KEY"])
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(1)
print(listener.getsockname()[1], flush=True)
conn, _ = listener.accept()
conn.settimeout(30)
tls = context.wrap_socket(conn, server_side=True)
request = b""
while b"\r\n\r\n" not in request:
    chunk = tls.recv(4096)
    if not chunk:
        sys.exit(1)
    request += chunk
tls.sendall(b'HTTP/1.1 200 OK\r\nETag: "lock-1"\r\nConnection: close\r\n\r\n{"part":')
if ending == "notify":
    tls.unwrap()
else:
    tls.shutdown(socket.SHUT_RDWR)
tls.close()
print("done", flush=True)
"""#

    final class Peer {
        let process = Process()
        let output = Pipe()
        let port: UInt16

        struct NoPort: Error {}

        init(ending: String, pki: TestPKI) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", TLSTruncationTests.server, ending]
            var environment = ProcessInfo.processInfo.environment
            environment["PEER_CERT"] = pki.server.certificatePath
            environment["PEER_KEY"] = pki.server.keyPath
            process.environment = environment
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            var line = Data()
            while let byte = try output.fileHandleForReading.read(upToCount: 1), let first = byte.first, first != 0x0A {
                line.append(first)
            }
            guard let port = UInt16(String(decoding: line, as: UTF8.self)) else { throw NoPort() }
            self.port = port
        }

        deinit {
            // SIGKILL: a child of a test thread may inherit a blocked SIGTERM.
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    /// Asks the peer for a C2D message over real TLS; returns the payload or the error.
    func receive(ending: String) throws -> Result<String?, HubError> {
        let pki = try TestPKI()
        let peer = try Peer(ending: ending, pki: pki)
        let transport = try TLSTransport(TLSConfiguration(host: "localhost", port: peer.port,
                                                          trustAnchors: .file(pki.caCertificatePath)))
        let buffers = try #require(HubHTTPSBuffers.allocate())
        defer { buffers.deallocate() }
        let clock = SystemPlatform()
        let configuration = try HubConfiguration(connectionString: "HostName=hub.example.net;DeviceId=dev1;SharedAccessKey=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
                                                 storage: buffers.identity)
        var options = HubOptions()
        options.timeoutMs = 10_000
        let client = try HubClient(configuration: configuration, transport: transport, platform: clock, crypto: MbedTLSCrypto(), buffers: buffers, options: options)
        do throws(HubError) {
            let message = try client.receive()
            return .success(message.map { String(decoding: $0.payload, as: UTF8.self) })
        } catch {
            return .failure(error)
        }
    }

    @Test func aBodyEndedByCloseNotifyIsWhole() throws {
        let outcome = try receive(ending: "notify")
        guard case .success(let payload) = outcome else { Issue.record("\(outcome)"); return }
        #expect(payload == #"{"part":"#)
    }

    @Test func aBodyCutByABareTCPCloseIsTruncated() throws {
        let outcome = try receive(ending: "bare")
        guard case .failure(.transport(.truncated)) = outcome else { Issue.record("\(outcome)"); return }
    }
}
