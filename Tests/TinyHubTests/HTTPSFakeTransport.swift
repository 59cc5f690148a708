import Foundation
@testable import TinyHub
import TinyPlatform
import TinyTLS

/// An in-memory HTTP server behind the `Transport` protocol: it collects each request
/// (head + Content-Length body), asks `respond` what to do, and plays that back.
final class FakeHTTPTransport: Transport {
    /// What the fake server does with one request.
    enum Action {
        /// Answer with these bytes (a complete response).
        case reply(String)
        /// The connection dies: the client's receive sees the peer close before any byte.
        case die
    }

    /// A request as seen by the fake server.
    struct Request {
        var method: String
        var target: String
        var head: String
        var atMs: UInt64
        var connection: Int
        /// The body (Content-Length bytes after the head).
        var body: [UInt8] = []
    }

    let clock: HTTPSTestClock
    var respond: (Request) -> Action = { _ in .reply("HTTP/1.1 204 No Content\r\n\r\n") }
    private(set) var requests: [Request] = []
    private(set) var opens = 0
    private(set) var isOpen = false
    private var pending: [UInt8] = []
    private var outbound: [UInt8] = []
    private var dieOnReceive = false
    /// When set, responses arrive one byte per receive, each this many ms apart.
    var trickleMs: UInt64? = nil

    init(clock: HTTPSTestClock) { self.clock = clock }

    func open(timeoutMs: Int32) throws(TransportError) {
        opens += 1
        isOpen = true
        pending = []
        outbound = []
        dieOnReceive = false
    }

    func send(_ bytes: UnsafeRawBufferPointer, timeoutMs: Int32) throws(TransportError) {
        guard isOpen else { throw .notConnected }
        pending += bytes
        // A full request yet?
        guard let end = pending.indices.first(where: { i in
            i + 3 < pending.count && pending[i] == 13 && pending[i + 1] == 10 && pending[i + 2] == 13 && pending[i + 3] == 10
        }) else { return }
        let head = String(decoding: pending[0..<end], as: UTF8.self)
        var length = 0
        for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
            length = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
        }
        guard pending.count >= end + 4 + length else { return }
        let body = Array(pending[(end + 4)..<(end + 4 + length)])
        pending.removeFirst(end + 4 + length)
        let requestLine = head.split(separator: "\r\n")[0].split(separator: " ")
        let request = Request(method: String(requestLine[0]), target: String(requestLine[1]), head: head,
                              atMs: clock.nowMs, connection: opens, body: body)
        requests.append(request)
        switch respond(request) {
        case .reply(let text): outbound += Array(text.utf8)
        case .die: dieOnReceive = true
        }
    }

    func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMs: Int32) throws(TransportError) -> Int {
        guard isOpen else { throw .notConnected }
        if dieOnReceive {
            isOpen = false
            throw .closed
        }
        guard !outbound.isEmpty else { return 0 }  // nothing to say: a timeout
        if let trickleMs {
            // A peer that sends one byte at a time, each within the per-call timeout.
            clock.nowMs += min(trickleMs, UInt64(max(0, timeoutMs)))
            buffer[0] = outbound.removeFirst()
            return 1
        }
        let n = min(buffer.count, outbound.count)
        for i in 0..<n { buffer[i] = outbound[i] }
        outbound.removeFirst(n)
        return n
    }

    func close() { isOpen = false }

    /// The GET requests (C2D polls).
    var gets: [Request] { requests.filter { $0.method == "GET" } }
}

/// Canned responses.
enum Canned {
    static let empty = "HTTP/1.1 204 No Content\r\n\r\n"
    static func message(_ etag: String, _ body: String) -> String {
        "HTTP/1.1 200 OK\r\nETag: \"\(etag)\"\r\niothub-messageid: \(etag)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }
    static func status(_ code: Int, retryAfter: Int? = nil, close: Bool = false) -> String {
        var text = "HTTP/1.1 \(code) X\r\nContent-Length: 2\r\n"
        if let retryAfter { text += "Retry-After: \(retryAfter)\r\n" }
        if close { text += "Connection: close\r\n" }
        return text + "\r\n{}"
    }
}

/// A client over the fake transport.
final class FakeClient {
    let clock = HTTPSTestClock()
    let transport: FakeHTTPTransport
    let buffers = HubHTTPSBuffers.allocate()!
    let client: HubClient<HTTPSFace<FakeHTTPTransport, HTTPSTestClock>>
    let log = LogBox()
    let arena = Arena()

    init(options: HubOptions = HubOptions(), connectionString: String = httpsConnectionString) throws {
        let transport = FakeHTTPTransport(clock: clock)
        self.transport = transport
        let sink = log, clock = clock, buffers = buffers
        let configuration = try HubConfiguration(connectionString: connectionString, storage: buffers.identity)
        client = try HubClient(configuration: configuration, transport: transport, platform: clock, crypto: MbedTLSCrypto(), buffers: buffers,
                                    options: options, log: { sink.lines.append(String(describing: $0)) })
    }

    deinit { buffers.deallocate() }
}
