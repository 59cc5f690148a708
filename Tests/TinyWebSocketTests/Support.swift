import TinyWebSocket

/// What a decoder made of a byte sequence: the application stream, the control events with
/// their payloads, and the error that stopped it, if any.
struct Decoded: Equatable {
    var data: [UInt8] = []
    var events: [Event] = []
    var error: WebSocketFrameError?
    var consumed = 0

    struct Event: Equatable {
        var kind: WebSocketControlEvent
        var payload: [UInt8]
    }
}

/// Feeds `bytes` to a fresh decoder `step` bytes at a time, with an output buffer of `outSize`.
func decodeAll(_ bytes: [UInt8], step: Int = .max, outSize: Int = 4096, max: UInt64 = 1 << 20) -> Decoded {
    var decoder = WebSocketFrameDecoder(maxFrameLength: max)
    var result = Decoded()
    var out = [UInt8](repeating: 0, count: outSize)
    var at = 0
    var stalls = 0
    while at < bytes.count {
        let end = bytes.count - at > step ? at + step : bytes.count
        do {
            let r = try bytes[at..<end].withUnsafeBytes { input in
                try out.withUnsafeMutableBytes { try decoder.decode(input, into: $0) }
            }
            result.data += out[0..<r.produced]
            if let e = r.event { result.events.append(.init(kind: e, payload: Array(decoder.controlPayload))) }
            at += r.consumed
            result.consumed = at
            stalls = (r.consumed == 0 && r.produced == 0 && r.event == nil) ? stalls + 1 : 0
            if stalls > 2 { break }
        } catch {
            result.error = error as? WebSocketFrameError
            break
        }
    }
    // A final call with no input completes a trailing empty control frame.
    if result.error == nil {
        do {
            let r = try out.withUnsafeMutableBytes { o in
                try [UInt8]().withUnsafeBytes { try decoder.decode($0, into: o) }
            }
            if let e = r.event { result.events.append(.init(kind: e, payload: Array(decoder.controlPayload))) }
        } catch { result.error = error as? WebSocketFrameError }
    }
    return result
}

/// Encodes one client frame with the encoder under test.
func encode(_ opcode: WebSocketOpcode, _ payload: [UInt8], mask: UInt32, fin: Bool = true) throws -> [UInt8] {
    var out = [UInt8](repeating: 0, count: payload.count + 14)
    let n = try payload.withUnsafeBytes { p in
        try out.withUnsafeMutableBytes { try WebSocketFrameEncoder.encode(opcode: opcode, fin: fin, payload: p, mask: mask, into: $0) }
    }
    return Array(out[0..<n])
}

let hello: [UInt8] = [0x48, 0x65, 0x6c, 0x6c, 0x6f] // "Hello"
