import Foundation
import TinyPlatform
import TinyTLS
import TinyWebSocket

/// An inner transport played by the test as the server: what the client sends is recorded,
/// what the test queues is received, one queued chunk (or as much of it as fits) per call.
/// `upgradeAnswer` answers the upgrade request on its own, from the key the request carries.
final class ScriptedInner: Transport {
    var inbound: [[UInt8]] = []
    var sent: [[UInt8]] = []
    var opens = 0
    var closes = 0
    var openError: TransportError? = nil
    /// Thrown by `receive` once `inbound` is empty (nil: report a timeout, 0 bytes).
    var endError: TransportError? = nil
    /// Thrown by the next `send`.
    var sendError: TransportError? = nil
    /// Builds the answer to an upgrade request from its key (nil: answer nothing).
    var upgradeAnswer: ((String) -> [UInt8])? = { key in okAnswer(key: key) }
    /// Bytes queued right after the upgrade answer (the server's first frames).
    var afterUpgrade: [[UInt8]] = []
    /// Answered to the client's close frame (nil: nothing).
    var closeReply: [UInt8]? = [0x88, 0x02, 0x03, 0xE8]
    private(set) var isOpen = false

    func open(timeoutMs: Int32) throws(TransportError) {
        opens += 1
        if let openError { throw openError }
        inbound = [] // a new connection: nothing left from the old one
        isOpen = true
    }

    func send(_ bytes: UnsafeRawBufferPointer, timeoutMs: Int32) throws(TransportError) {
        guard isOpen else { throw .notConnected }
        if let sendError { self.sendError = nil; isOpen = false; throw sendError }
        let data = Array(bytes)
        sent.append(data)
        if data.starts(with: Array("GET ".utf8)), let key = Self.header("Sec-WebSocket-Key", in: data), let answer = upgradeAnswer {
            inbound.append(answer(key))
            inbound += afterUpgrade
        } else if let frame = ClientFrame(data), frame.opcode == 0x8, let reply = closeReply {
            inbound.append(reply)
        }
    }

    func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMs: Int32) throws(TransportError) -> Int {
        guard isOpen else { throw .notConnected }
        guard !inbound.isEmpty else {
            if let endError { isOpen = false; throw endError }
            return 0
        }
        var chunk = inbound.removeFirst()
        let n = min(chunk.count, buffer.count)
        for i in 0..<n { buffer[i] = chunk[i] }
        if n < chunk.count {
            chunk.removeFirst(n)
            inbound.insert(chunk, at: 0)
        }
        return n
    }

    func close() {
        if isOpen { closes += 1 }
        isOpen = false
    }

    /// The client's frames (every send after the upgrade request), decoded.
    var frames: [ClientFrame] { sent.compactMap(ClientFrame.init) }

    static func header(_ name: String, in request: [UInt8]) -> String? {
        let text = String(decoding: request, as: UTF8.self)
        for line in text.components(separatedBy: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == name.lowercased() {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// base64(SHA-1(key + GUID)), computed here with Foundation-free mbedTLS SHA-1 from TinyTLS.
    static func accept(for key: String) -> String {
        var digest = [UInt8](repeating: 0, count: 20)
        let message = Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8)
        try! message.withUnsafeBytes { m in try digest.withUnsafeMutableBytes { try SHA1.hash(m, into: $0) } }
        return Data(digest).base64EncodedString()
    }

    static func okAnswer(key: String, extra: String = "") -> [UInt8] {
        Array(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: \(accept(for: key))\r\nSec-WebSocket-Protocol: mqtt\r\n\(extra)\r\n").utf8)
    }
}

/// One client frame, checked the way a server must (RFC 6455 §5.1: masked) and unmasked.
struct ClientFrame: Equatable {
    var fin: Bool
    var opcode: UInt8
    var masked: Bool
    var mask: [UInt8]
    var payload: [UInt8]

    /// Decodes exactly one frame filling `bytes`; nil if `bytes` is not one (an upgrade request...).
    init?(_ bytes: [UInt8]) {
        guard bytes.count >= 2, !bytes.starts(with: Array("GET ".utf8)) else { return nil }
        fin = bytes[0] & 0x80 != 0
        opcode = bytes[0] & 0x0F
        masked = bytes[1] & 0x80 != 0
        var length = Int(bytes[1] & 0x7F)
        var at = 2
        if length == 126 {
            guard bytes.count >= 4 else { return nil }
            length = Int(bytes[2]) << 8 | Int(bytes[3]); at = 4
        } else if length == 127 {
            guard bytes.count >= 10 else { return nil }
            length = bytes[2..<10].reduce(0) { $0 << 8 | Int($1) }; at = 10
        }
        mask = masked ? Array(bytes[at..<min(at + 4, bytes.count)]) : []
        at += masked ? 4 : 0
        guard bytes.count == at + length else { return nil }
        let key = mask, isMasked = masked
        payload = bytes[at...].enumerated().map { isMasked ? $0.element ^ key[$0.offset % 4] : $0.element }
    }
}

/// A transport under test over a scripted inner, opened unless told otherwise.
func makeTransport(_ inner: ScriptedInner = ScriptedInner(), host: String = "hub.azure-devices.net", x509: Bool = false,
                   frameBuffer: Int = 512, receiveBuffer: Int = 512, maxFrame: UInt64 = 1 << 20,
                   open: Bool = true) throws -> WebSocketTransport<ScriptedInner> {
    let transport = try WebSocketTransport(over: inner, configuration: WebSocketConfiguration(
        host: host, clientCertificate: x509, frameBufferBytes: frameBuffer, receiveBufferBytes: receiveBuffer, maxFrameLength: maxFrame))
    if open { try transport.open(timeoutMs: 1_000) }
    return transport
}

/// Receives until `count` bytes came, or a receive returns 0 with nothing left in the script (or throws).
func receiveAll(_ transport: WebSocketTransport<ScriptedInner>, count: Int, chunk: Int = 64) throws -> [UInt8] {
    var out = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: chunk)
    while out.count < count {
        let n = try buffer.withUnsafeMutableBytes { try transport.receive(into: $0, timeoutMs: 0) }
        if n == 0 && transport.inner.inbound.isEmpty { break }
        out += buffer[0..<n]
    }
    return out
}

/// A server (unmasked) frame.
func serverFrame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
    var bytes: [UInt8] = [(fin ? 0x80 : 0) | opcode]
    if payload.count < 126 {
        bytes.append(UInt8(payload.count))
    } else if payload.count <= 0xFFFF {
        bytes += [126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
    } else {
        bytes.append(127)
        bytes += (0..<8).map { UInt8(truncatingIfNeeded: payload.count >> (56 - 8 * $0)) }
    }
    return bytes + payload
}

extension Array where Element == UInt8 {
    func send(on transport: WebSocketTransport<ScriptedInner>) throws {
        try withUnsafeBytes { try transport.send($0, timeoutMs: 1_000) }
    }
}
