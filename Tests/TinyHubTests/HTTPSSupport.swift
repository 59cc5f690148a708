import Foundation
import Testing
import TinyHTTP
@testable import TinyHub
import TinyPlatform
import TinyTLS

/// Device key used by the HTTPS tests (base64 of "0123456789abcdef0123456789abcdef").
let httpsTestKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
let httpsTestHost = "myhub.azure-devices.net"
let httpsConnectionString = "HostName=\(httpsTestHost);DeviceId=dev1;SharedAccessKey=\(httpsTestKey)"

/// Memory that outlives a test's closures: copies of strings and property arrays, freed at deinit.
final class Arena {
    private var blocks: [UnsafeMutableRawBufferPointer] = []

    deinit { for block in blocks { block.deallocate() } }

    func bytes(_ text: String) -> UnsafeRawBufferPointer { bytes(Array(text.utf8)) }

    func bytes(_ data: [UInt8]) -> UnsafeRawBufferPointer {
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: max(data.count, 1), alignment: 8)
        blocks.append(block)
        block.copyBytes(from: data)
        return UnsafeRawBufferPointer(rebasing: block[0..<data.count])
    }

    func properties(_ pairs: [(String, String)]) -> UnsafeBufferPointer<MessageProperty> {
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, pairs.count) * MemoryLayout<MessageProperty>.stride,
                                                           alignment: MemoryLayout<MessageProperty>.alignment)
        blocks.append(block)
        let typed = block.bindMemory(to: MessageProperty.self)
        for (i, pair) in pairs.enumerated() {
            typed.baseAddress!.advanced(by: i).initialize(to: MessageProperty(name: bytes(pair.0), value: bytes(pair.1)))
        }
        return UnsafeBufferPointer(start: typed.baseAddress, count: pairs.count)
    }

    func scratch(_ count: Int = 512) -> UnsafeMutableRawBufferPointer {
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 8)
        blocks.append(block)
        return block
    }
}

/// A clock that moves only when told to. Wall time starts at the real time (the fixture
/// checks SAS expiry against its own clock).
final class HTTPSTestClock: Platform {
    var nowMs: UInt64 = 5_000_000
    let wallStart = Int64(Date().timeIntervalSince1970)
    var wallOffset: Int64 = 0

    func monotonicMs() -> UInt64 { nowMs }
    func wallSeconds() -> Int64 { wallStart + wallOffset + Int64(nowMs / 1_000) - 5_000 }
    func random32() -> UInt32 { 4 }
    func sleep(ms: UInt32) { nowMs += UInt64(ms) }
    func advance(seconds: UInt64) { nowMs += seconds * 1_000 }
}

/// A test CA and a `localhost` server certificate, made once per test process with openssl
/// (the same commands as scripts/standin/broker.sh).
enum FixtureCertificates {
    static let directory: URL = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinyhub-https-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func run(_ args: [String]) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["openssl"] + args
            p.currentDirectoryURL = dir
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try! p.run()
            p.waitUntilExit()
        }
        run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2", "-subj", "/CN=TinyHub Test CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-keyout", "ca.key", "-out", "ca.pem"])
        run(["req", "-newkey", "rsa:2048", "-nodes", "-sha256", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr"])
        try! "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
            .write(to: dir.appendingPathComponent("server.ext"), atomically: true, encoding: .utf8)
        run(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
             "-sha256", "-extfile", "server.ext", "-out", "server.pem"])
        return dir
    }()

    static var ca: String { directory.appendingPathComponent("ca.pem").path }
    static var cert: String { directory.appendingPathComponent("server.pem").path }
    static var key: String { directory.appendingPathComponent("server.key").path }
}

/// The Python fixture server (Tests/Fixtures/iothub_https_fixture.py), one per test.
final class HubFixture {
    let process = Process()
    let port: UInt16
    /// The fixture exits when this pipe closes, even if the test process dies.
    let lifeline = Pipe()

    init(_ extra: [String] = []) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/iothub_https_fixture.py").path
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--cert", FixtureCertificates.cert, "--key", FixtureCertificates.key,
                             "--host", httpsTestHost, "--device", "dev1", "--device-key", httpsTestKey,
                             "--exit-on-stdin-eof"] + extra
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = lifeline
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let value = UInt16(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw FixtureError.noPort
        }
        port = value
    }

    deinit {
        // Closing stdin ends the fixture; SIGKILL too, because a child may inherit a signal
        // mask that blocks SIGTERM.
        try? lifeline.fileHandleForWriting.close()
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    enum FixtureError: Error { case noPort, badResponse }

    /// A TLS transport to the fixture, trusting the test CA.
    func transport() throws -> TLSTransport {
        try TLSTransport(TLSConfiguration(host: "localhost", port: port, trustAnchors: .file(FixtureCertificates.ca)))
    }

    /// Calls a `/_fixture/...` control endpoint over its own TLS connection (TinyHTTP's
    /// writer and parser); returns the decoded JSON.
    func control(_ method: HTTPMethod, _ path: String, json: Any? = nil) throws -> Any {
        let tls = try transport()
        try tls.open(timeoutMs: 10_000)
        defer { tls.close() }
        let body = try json.map { try JSONSerialization.data(withJSONObject: $0) }.map { Array($0) } ?? []
        var request = [UInt8](repeating: 0, count: 4096 + body.count)
        var head = [UInt8](repeating: 0, count: 4096)
        var responseBody = [UInt8](repeating: 0, count: 1 << 20)
        var rx = [UInt8](repeating: 0, count: 16_384)
        return try request.withUnsafeMutableBytes { req in
            var writer = HTTPRequestWriter(buffer: req)
            try Array(path.utf8).withUnsafeBytes { p in try Array("localhost".utf8).withUnsafeBytes { h in
                try writer.start(method: method, path: p, host: h) } }
            let n = try body.withUnsafeBytes { try writer.finish(body: $0) }
            try tls.send(UnsafeRawBufferPointer(rebasing: req[0..<n]), timeoutMs: 10_000)
            return try head.withUnsafeMutableBytes { hb in
                try responseBody.withUnsafeMutableBytes { bb in
                    var parser = HTTPResponseParser(headerBuffer: hb, bodyBuffer: bb)
                    try rx.withUnsafeMutableBytes { r in
                        while !parser.isComplete {
                            let got = try tls.receive(into: r, timeoutMs: 10_000)
                            guard got > 0 else { throw FixtureError.badResponse }
                            _ = try parser.feed(UnsafeRawBufferPointer(rebasing: r[0..<got]))
                        }
                    }
                    return try JSONSerialization.jsonObject(with: Data(try parser.body()))
                }
            }
        }
    }

    /// The device requests recorded so far.
    func requests() throws -> [RecordedRequest] {
        (try control(.get, "/_fixture/requests") as! [[String: Any]]).map(RecordedRequest.init)
    }

    /// Fixture counters (`connections`, `requests`, `queue`, `locked`, `dead`).
    func stats() throws -> [String: Int] { try control(.get, "/_fixture/stats") as! [String: Int] }

    /// Enqueues a C2D message.
    func enqueue(_ message: [String: Any]) throws { _ = try control(.post, "/_fixture/c2d", json: message) }

    /// Changes the fixture's behaviour (see the script's doc string).
    func configure(_ config: [String: Any]) throws { _ = try control(.post, "/_fixture/config", json: config) }
}

/// One request as the fixture saw it.
struct RecordedRequest {
    var method: String
    var path: String
    var query: String
    var target: String
    var headers: [(String, String)]
    var body: [UInt8]

    init(_ json: [String: Any]) {
        method = json["method"] as! String
        path = json["path"] as! String
        query = json["query"] as! String
        target = json["target"] as! String
        headers = (json["headers"] as! [[String]]).map { ($0[0], $0[1]) }
        body = Array(Data(base64Encoded: json["body"] as! String)!)
    }

    /// The first header named `name` (case-insensitive).
    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// A client for the fixture: real TLS, fake clock, freshly allocated buffers.
final class FixtureClient {
    let fixture: HubFixture
    let clock = HTTPSTestClock()
    let buffers: HubHTTPSBuffers
    let transport: TLSTransport
    let client: HubClient<HTTPSFace<TLSTransport, HTTPSTestClock>>
    let log = LogBox()
    let arena = Arena()

    init(_ fixture: HubFixture, connectionString: String = httpsConnectionString, options: HubOptions = HubOptions(),
         body: Int = 4_096, request: Int = 2_048, crypto: any CryptoProvider = MbedTLSCrypto()) throws {
        self.fixture = fixture
        let buffers = try #require(HubHTTPSBuffers.allocate(request: request, body: body))
        self.buffers = buffers
        let transport = try fixture.transport()
        self.transport = transport
        let sink = log, clock = clock
        let configuration = try HubConfiguration(connectionString: connectionString, storage: buffers.identity)
        client = try HubClient(configuration: configuration, transport: transport, platform: clock, crypto: crypto, buffers: buffers,
                                    options: options, log: { sink.lines.append(String(describing: $0)) })
    }

    deinit {
        transport.close()
        buffers.deallocate()
    }
}

/// Collects log-hook lines.
final class LogBox { var lines: [String] = [] }

/// Text of a byte buffer.
func string(_ bytes: UnsafeRawBufferPointer?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }
