// libFuzzer entry for the WebSocket frame decoder and encoder (Sources/TinyWebSocket), compiled
// into one module with them by scripts/check/fuzz.sh.
//
// Input: byte 0 picks the frame-length limit, byte 1 the feed and output sizes, the rest is a
// stream of server frames. Oracle:
//  1. A reference decoder written here straight from RFC 6455 §5.2-§5.5 (whole input at once,
//     frame after frame, no state machine) gives the application stream, the control events with
//     their payloads and the first error. The incremental decoder, fed in pieces of 1 byte, of
//     the picked size and all at once, into output buffers of 1 byte, of the picked size and
//     large, must give exactly that every time.
//  2. Round trip: the encoder frames a payload taken from the input with a mask taken from it;
//     the frame is checked against RFC 6455 (FIN, opcode, MASK bit, minimal length, key, XOR),
//     and its unmasked server form decodes back to the payload.
// Buffers are allocated to size so AddressSanitizer catches any out-of-bounds access.

@inline(never)
func fuzzFail(_ message: StaticString, line: UInt = #line) -> Never {
    fatalError("fuzz oracle: \(message)", line: line)
}

@inline(__always)
func check(_ condition: Bool, _ message: StaticString, line: UInt = #line) {
    if !condition { fuzzFail(message, line: line) }
}

/// What a decoder made of a stream.
struct Outcome: Equatable {
    var data: [UInt8] = []
    var events: [WebSocketControlEvent] = []
    var payloads: [[UInt8]] = []
    var error: WebSocketFrameError? = nil
}

/// RFC 6455 §5.2 read frame by frame from the whole input, checks in the order the header
/// bytes arrive: RSV bits, opcode, data/continuation sequence, control FIN; MASK; control length;
/// the extended length's top bit and minimality; the data frame limit; a 1-byte close.
func reference(_ input: [UInt8], maxFrame: UInt64) -> Outcome {
    var out = Outcome()
    var at = 0
    var inMessage = false
    while at < input.count {
        let b0 = input[at]
        if b0 & 0x70 != 0 { out.error = .reservedBitsSet; return out }
        let opcode = b0 & 0x0F
        let fin = b0 & 0x80 != 0
        let control = opcode >= 8
        switch opcode {
        case 0x1: out.error = .textFrame; return out
        case 0x0: if !inMessage { out.error = .unexpectedContinuation; return out }
        case 0x2: if inMessage { out.error = .expectedContinuation; return out }
        case 0x8, 0x9, 0xA: if !fin { out.error = .fragmentedControlFrame; return out }
        default: out.error = .unknownOpcode(opcode); return out
        }
        guard at + 1 < input.count else { return out }
        let b1 = input[at + 1]
        if b1 & 0x80 != 0 { out.error = .maskedServerFrame; return out }
        let code = b1 & 0x7F
        if control && code > 125 { out.error = .controlFrameTooLong; return out }
        var length = UInt64(code)
        var header = 2
        if code >= 126 {
            let size = code == 126 ? 2 : 8
            guard at + 2 + size <= input.count else { return out }
            length = 0
            for i in 0..<size { length = length << 8 | UInt64(input[at + 2 + i]) }
            header += size
            if code == 127 && length >> 63 != 0 { out.error = .lengthTopBitSet; return out }
            if (code == 126 && length < 126) || (code == 127 && length <= 0xFFFF) { out.error = .nonMinimalLength; return out }
        }
        if !control && length > maxFrame { out.error = .frameTooLong; return out }
        if opcode == 0x8 && length == 1 { out.error = .invalidClosePayload; return out }
        if !control { inMessage = !fin }
        let start = at + header
        let available = UInt64(input.count - start)
        if length > available {
            // A cut frame: a data frame's bytes so far are already application bytes.
            if !control { out.data += input[start...] }
            return out
        }
        let end = start + Int(length)
        if control {
            out.events.append(opcode == 0x8 ? .close : opcode == 0x9 ? .ping : .pong)
            out.payloads.append(Array(input[start..<end]))
        } else {
            out.data += input[start..<end]
        }
        at = end
    }
    return out
}

/// The decoder under test, fed `step` bytes at a time into an output of `outSize` bytes.
func incremental(_ input: [UInt8], maxFrame: UInt64, step: Int, outSize: Int) -> Outcome {
    var decoder = WebSocketFrameDecoder(maxFrameLength: maxFrame)
    var out = Outcome()
    let output = UnsafeMutableRawBufferPointer.allocate(byteCount: outSize, alignment: 1)
    defer { output.deallocate() }
    var at = 0
    var idle = 0
    while true {
        let end = min(input.count, at + step)
        let piece = UnsafeMutableRawBufferPointer.allocate(byteCount: end - at, alignment: 1)
        defer { piece.deallocate() }
        for i in 0..<(end - at) { piece[i] = input[at + i] }
        let result: WebSocketDecodeResult
        do {
            result = try decoder.decode(UnsafeRawBufferPointer(piece), into: output)
        } catch {
            out.error = error
            // The error is sticky.
            do { _ = try decoder.decode(UnsafeRawBufferPointer(piece), into: output); fuzzFail("error not sticky") } catch {
                check(error == out.error, "a different error the second time")
            }
            return out
        }
        check(result.consumed >= 0 && result.consumed <= end - at, "consumed out of range")
        check(result.produced >= 0 && result.produced <= outSize, "produced out of range")
        out.data += UnsafeRawBufferPointer(rebasing: output[0..<result.produced])
        if let event = result.event {
            out.events.append(event)
            out.payloads.append(Array(decoder.controlPayload))
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: 125, alignment: 1)
            let n = decoder.copyControlPayload(into: copy)
            check(Array(UnsafeRawBufferPointer(rebasing: copy[0..<n])) == out.payloads.last!, "copyControlPayload differs")
            copy.deallocate()
            if event == .close {
                let p = out.payloads.last!
                check(decoder.closeStatus == (p.count >= 2 ? UInt16(p[0]) << 8 | UInt16(p[1]) : nil), "closeStatus")
            }
        }
        check(result.consumed > 0 || result.produced > 0 || result.event != nil || at >= input.count, "stalled")
        at += result.consumed
        if at >= input.count && result.event == nil && result.produced == 0 {
            idle += 1
            if idle > 1 { return out }
        } else {
            idle = 0
        }
    }
}

func roundTrip(_ input: [UInt8]) {
    guard input.count >= 5 else { return }
    let mask = UInt32(input[0]) << 24 | UInt32(input[1]) << 16 | UInt32(input[2]) << 8 | UInt32(input[3])
    let opcodes: [WebSocketOpcode] = [.binary, .continuation, .ping, .pong, .close]
    let opcode = opcodes[Int(input[4]) % opcodes.count]
    let fin = input[4] & 0x80 == 0
    // Payloads up to 70,000 bytes (all three length forms) from repeating the input.
    let count = opcode.isControl ? min(input.count, 125 + Int(input[4] & 1)) : (Int(input[4]) * 277) % 70_001
    var payload = [UInt8](repeating: 0, count: count)
    for i in 0..<count { payload[i] = input[(i + 5) % input.count] &+ UInt8(truncatingIfNeeded: i / input.count) }
    let capacity = count + WebSocketFrameEncoder.headerLength(payloadLength: count) - Int(input[0] & 1)
    let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: max(0, capacity), alignment: 1)
    defer { frame.deallocate() }
    let written: Int
    do {
        written = try payload.withUnsafeBytes { try WebSocketFrameEncoder.encode(opcode: opcode, fin: fin, payload: $0, mask: mask, into: frame) }
    } catch {
        switch error as? WebSocketFrameError {
        case .bufferTooSmall?: check(capacity < count + WebSocketFrameEncoder.headerLength(payloadLength: count), "refused room")
        case .controlFrameTooLong?: check(opcode.isControl && count > 125, "refused a short control frame")
        case .fragmentedControlFrame?: check(opcode.isControl && !fin && count <= 125, "refused a FIN control frame")
        default: fuzzFail("unexpected encoder error")
        }
        return
    }
    check(!(opcode.isControl && (count > 125 || !fin)), "encoded a long or fragmented control frame")
    let bytes = Array(frame[0..<written])
    check(bytes[0] == (fin ? 0x80 : 0) | opcode.rawValue, "first byte")
    check(bytes[1] & 0x80 != 0, "MASK bit clear")
    var at = 2
    switch count {
    case 0..<126: check(Int(bytes[1] & 0x7F) == count, "7-bit length")
    case 126...0xFFFF:
        check(bytes[1] & 0x7F == 126 && Int(bytes[2]) << 8 | Int(bytes[3]) == count, "16-bit length"); at = 4
    default:
        check(bytes[1] & 0x7F == 127, "64-bit length code")
        var length = 0
        for i in 0..<8 { length = length << 8 | Int(bytes[2 + i]) }
        check(length == count, "64-bit length"); at = 10
    }
    let key = [UInt8(mask >> 24), UInt8(truncatingIfNeeded: mask >> 16), UInt8(truncatingIfNeeded: mask >> 8), UInt8(truncatingIfNeeded: mask)]
    check(Array(bytes[at..<(at + 4)]) == key, "masking key")
    at += 4
    check(written == at + count, "frame length")
    var unmasked = [UInt8](repeating: 0, count: count)
    for i in 0..<count { unmasked[i] = bytes[at + i] ^ key[i % 4] }
    check(unmasked == payload, "XOR")
    // The same frame as a server would send it (MASK clear, no key) decodes back.
    var server = [bytes[0], bytes[1] & 0x7F] + bytes[2..<(at - 4)]
    server += unmasked
    if opcode == .continuation { server = [0x02, 0x00] + server } // a message to continue
    let decoded = reference(server, maxFrame: 1 << 20)
    if opcode == .close && count == 1 {
        check(decoded.error == .invalidClosePayload, "1-byte close accepted")
    } else {
        check(decoded.error == nil, "own frame refused")
        check(opcode.isControl ? decoded.payloads == [payload] : decoded.data == payload, "payload lost")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let all = Array(UnsafeBufferPointer(start: data, count: size))
    let maxFrame: UInt64 = [0, 5, 125, 126, 65_535, 65_536, 1 << 20, UInt64.max >> 1][Int(all[0] & 7)]
    let step = 1 + Int(all[1] & 0x1F)
    let outSize = 1 + Int(all[1] >> 5) * 9
    let stream = Array(all[2...])
    let expected = reference(stream, maxFrame: maxFrame)
    for (s, o) in [(1, 1), (step, outSize), (stream.count + 1, 1 << 16), (step, 1)] {
        check(incremental(stream, maxFrame: maxFrame, step: s, outSize: o) == expected, "incremental decoder differs from the reference")
    }
    roundTrip(stream)
    return 0
}
