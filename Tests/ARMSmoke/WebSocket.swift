// The WebSocket framing on the target: RFC 6455 §5.7's frames through the encoder and the
// decoder, hostile server frames as typed errors, §1.3's accept value (SHA-1 in mbedTLS), and a
// `WebSocketTransport` over an in-memory server (upgrade, masked send, ping answered, a packet
// across frames, the server's close), which also makes Embedded Swift compile the generic
// transport for the target.
import TinyPlatform
import TinyWebSocket

/// The server side in fixed buffers: answers the upgrade from the request's key, records what
/// the client sends, hands out `script` after the answer.
final class InMemoryServer: Transport {
    let inbound = UnsafeMutableRawBufferPointer.allocate(byteCount: 1_024, alignment: 8)
    let sent = UnsafeMutableRawBufferPointer.allocate(byteCount: 1_024, alignment: 8)
    var inboundCount = 0
    var inboundAt = 0
    var sentCount = 0
    var sends = 0
    var connected = false
    let script: [UInt8]

    init(script: [UInt8]) { self.script = script }
    deinit { inbound.deallocate(); sent.deallocate() }

    func open(timeoutMs: Int32) throws(TransportError) { connected = true }
    var isOpen: Bool { connected }
    func close() { connected = false }

    func queue(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes { inbound[inboundCount] = byte; inboundCount += 1 }
    }

    func send(_ bytes: UnsafeRawBufferPointer, timeoutMs: Int32) throws(TransportError) {
        sends += 1
        if sends == 1 { try answerUpgrade(bytes); return }
        for byte in bytes where sentCount < sent.count { sent[sentCount] = byte; sentCount += 1 }
    }

    /// 101 with the accept for the request's `Sec-WebSocket-Key`, then the script.
    func answerUpgrade(_ request: UnsafeRawBufferPointer) throws(TransportError) {
        let name = bytes("Sec-WebSocket-Key: ")
        var keyAt = -1
        var i = 0
        while i + name.count <= request.count {
            if same(UnsafeRawBufferPointer(rebasing: request[i..<(i + name.count)]), name) { keyAt = i + name.count; break }
            i += 1
        }
        guard keyAt >= 0, keyAt + 24 <= request.count else { throw .closed }
        let key = UnsafeRawBufferPointer(rebasing: request[keyAt..<(keyAt + 24)])
        queue(bytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "))
        var accept: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &accept) { out in
            let slot = UnsafeMutableRawBufferPointer(rebasing: out[0..<28])
            if (try? WebSocketHandshake.expectedAccept(key: key, into: slot)) != nil { queue(UnsafeRawBufferPointer(slot)) }
        }
        queue(bytes("\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n"))
        script.withUnsafeBytes { queue($0) }
    }

    func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMs: Int32) throws(TransportError) -> Int {
        guard inboundAt < inboundCount else { return 0 }
        let n = min(min(buffer.count, inboundCount - inboundAt), 7) // 7 bytes a read: headers split across reads
        for k in 0..<n { buffer[k] = inbound[inboundAt + k] }
        inboundAt += n
        return n
    }
}

func webSocketSmoke(_ check: (Bool, StaticString) -> Void) {
    // §5.7: "A single-frame masked text message" (the encoder writes any opcode it is given).
    let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
    defer { out.deallocate() }
    let hello = bytes("Hello")
    let n = (try? WebSocketFrameEncoder.encode(opcode: .text, payload: hello, mask: 0x37FA_213D, into: out)) ?? 0
    check(same(UnsafeRawBufferPointer(rebasing: out[0..<n]), [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]),
          "WebSocket: RFC 6455 5.7 masked frame encoded")

    // §5.7: a fragmented message (binary), a ping between its frames, fed one byte at a time.
    let stream: [UInt8] = [0x02, 0x03, 0x48, 0x65, 0x6c, 0x89, 0x02, 0xAA, 0xBB, 0x80, 0x02, 0x6c, 0x6f]
    var decoder = WebSocketFrameDecoder(maxFrameLength: 1 << 20)
    var data: [UInt8] = []
    var pings = 0
    var ok = true
    for byte in stream {
        var one = byte
        withUnsafeBytes(of: &one) { input in
            do throws(WebSocketFrameError) {
                let result = try decoder.decode(input, into: out)
                for k in 0..<result.produced { data.append(out[k]) }
                if result.event == .ping { pings += 1 }
            } catch { ok = false }
        }
    }
    check(ok && pings == 1 && data.withUnsafeBytes { same($0, hello) }, "WebSocket: fragmented binary message with a ping, byte by byte")

    // Hostile server frames: typed errors, never a trap.
    func firstError(_ frame: [UInt8]) -> WebSocketFrameError? {
        var d = WebSocketFrameDecoder(maxFrameLength: 100)
        return frame.withUnsafeBytes { input -> WebSocketFrameError? in
            do throws(WebSocketFrameError) { _ = try d.decode(input, into: out); return nil } catch { return error }
        }
    }
    check(firstError([0x82, 0x81, 1, 2, 3, 4, 5]) == .maskedServerFrame, "WebSocket: masked server frame refused")
    check(firstError([0xC2, 0x00]) == .reservedBitsSet, "WebSocket: reserved bits refused")
    check(firstError([0x83, 0x00]) == .unknownOpcode(3), "WebSocket: reserved opcode refused")
    check(firstError([0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0]) == .lengthTopBitSet, "WebSocket: 64-bit length with the top bit refused")
    check(firstError([0x82, 0x7E, 0x01, 0x00]) == .frameTooLong, "WebSocket: frame over the limit refused")

    // §1.3: the accept value for "dGhlIHNhbXBsZSBub25jZQ==" (SHA-1 and Base64 from mbedTLS).
    var accept: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    let acceptOK = withUnsafeMutableBytes(of: &accept) { slot -> Bool in
        let view = UnsafeMutableRawBufferPointer(rebasing: slot[0..<28])
        guard (try? WebSocketHandshake.expectedAccept(key: bytes("dGhlIHNhbXBsZSBub25jZQ=="), into: view)) != nil else { return false }
        return same(UnsafeRawBufferPointer(view), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }
    check(acceptOK, "WebSocket: RFC 6455 1.3 Sec-WebSocket-Accept")

    // The transport over an in-memory server: a CONNACK split across two frames with a ping
    // between them, then the server's close.
    let server = InMemoryServer(script: [0x02, 0x02, 0x20, 0x02, 0x89, 0x01, 0x50, 0x80, 0x02, 0x00, 0x00,
                                         0x88, 0x02, 0x03, 0xE8])
    do throws(TransportError) {
        let transport = try WebSocketTransport(over: server, configuration: WebSocketConfiguration(host: "hub.azure-devices.net"))
        try transport.open(timeoutMs: 1_000)
        check(transport.isOpen, "WebSocket: upgrade accepted (101, accept, subprotocol)")
        try transport.send(bytes("\u{10}\u{02}ab"), timeoutMs: 1_000)
        let frame = UnsafeRawBufferPointer(rebasing: server.sent[0..<server.sentCount])
        var unmasked = true
        if frame.count == 10 {
            for k in 0..<4 where frame[6 + k] ^ frame[2 + k % 4] != [0x10, 0x02, 0x61, 0x62][k] { unmasked = false }
        }
        check(frame.count == 10 && frame[0] == 0x82 && frame[1] == 0x84 && unmasked, "WebSocket: send is one masked binary frame")
        var got: [UInt8] = []
        var closed = false
        for _ in 0..<10 where !closed {
            do throws(TransportError) {
                let count = try transport.receive(into: out, timeoutMs: 0)
                for k in 0..<count { got.append(out[k]) }
            } catch { closed = error == .closed }
        }
        check(got.withUnsafeBytes { same($0, [0x20, 0x02, 0x00, 0x00]) }, "WebSocket: CONNACK across frames as one stream")
        check(server.sentCount >= 10 + 7 && server.sent[10] == 0x8A && server.sent[16] ^ server.sent[12] == 0x50,
              "WebSocket: ping answered with a masked pong carrying its payload")
        check(closed && transport.lastCloseStatus == 1000 && !transport.isOpen, "WebSocket: the server's close ends the connection")
    } catch {
        check(false, "WebSocket: transport over the in-memory server")
    }
}
