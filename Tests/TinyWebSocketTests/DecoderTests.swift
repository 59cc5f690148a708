import Testing
import TinyWebSocket

/// Every split of the input (one feed size at a time) and every output size give `expected`.
private func expectAllSplits(_ bytes: [UInt8], _ expected: Decoded, sourceLocation: SourceLocation = #_sourceLocation) {
    for step in 1...max(bytes.count, 1) {
        for outSize in [1, 3, 4096] {
            var got = decodeAll(bytes, step: step, outSize: outSize)
            got.consumed = expected.consumed
            #expect(got == expected, "step \(step) out \(outSize)", sourceLocation: sourceLocation)
        }
    }
}

/// §5.7 "A single-frame unmasked text message": refused, MQTT uses binary frames only.
@Test func rfcUnmaskedTextIsRefused() {
    #expect(decodeAll([0x81, 0x05] + hello).error == .textFrame)
    // §5.7 "A fragmented unmasked text message": refused at its first frame.
    #expect(decodeAll([0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]).error == .textFrame)
}

/// §5.7's fragmented message with the binary opcode: one stream "Hello" from two frames.
@Test func fragmentedBinaryMessage() {
    let bytes: [UInt8] = [0x02, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]
    expectAllSplits(bytes, Decoded(data: hello))
}

/// §5.7 "Unmasked Ping request and masked Ping response": the ping is reported with its payload;
/// the masked pong (what a client sends) is refused when it comes from the server.
@Test func rfcPingAndMaskedPong() {
    expectAllSplits([0x89, 0x05] + hello, Decoded(events: [.init(kind: .ping, payload: hello)]))
    #expect(decodeAll([0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]).error == .maskedServerFrame)
}

/// §5.7 "256 bytes binary message in a single unmasked frame" and "64KiB binary message".
@Test func rfcLongBinaryFrames() {
    let p256 = (0..<256).map { UInt8(truncatingIfNeeded: $0 * 7) }
    let d256 = decodeAll([0x82, 0x7E, 0x01, 0x00] + p256, step: 5, outSize: 100)
    #expect(d256 == Decoded(data: p256, consumed: 260))
    let p64k = (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    let d64k = decodeAll([0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0] + p64k, step: 1000, outSize: 777)
    #expect(d64k.data == p64k)
    #expect(d64k.error == nil)
}

/// Several MQTT packets in one frame and one packet across frames, with a ping and a pong in
/// between: the stream is the concatenation, the events come in order.
@Test func mixedStream() {
    let bytes: [UInt8] = [0x02, 0x02, 0x20, 0x02] // CONNACK's first half, FIN clear
        + [0x8A, 0x00] // pong, empty, allowed between fragments
        + [0x89, 0x02, 0xAA, 0xBB] // ping inside a fragmented message (§5.4 allows it)
        + [0x80, 0x04, 0x00, 0x00, 0x40, 0x02] // rest of CONNACK + PUBACK's first half
        + [0x82, 0x02, 0x00, 0x01] // PUBACK's second half in a new message
        + [0x82, 0x00] // empty binary frame
        + [0x88, 0x02, 0x03, 0xE8] // close 1000
    expectAllSplits(bytes, Decoded(
        data: [0x20, 0x02, 0x00, 0x00, 0x40, 0x02, 0x00, 0x01],
        events: [.init(kind: .pong, payload: []), .init(kind: .ping, payload: [0xAA, 0xBB]),
                 .init(kind: .close, payload: [0x03, 0xE8])]))
}

@Test func closeStatus() throws {
    var decoder = WebSocketFrameDecoder(maxFrameLength: 100)
    var out = [UInt8](repeating: 0, count: 8)
    let frame: [UInt8] = [0x88, 0x04, 0x03, 0xE9, 0x68, 0x69]
    let r = try frame.withUnsafeBytes { i in try out.withUnsafeMutableBytes { try decoder.decode(i, into: $0) } }
    #expect(r == WebSocketDecodeResult(consumed: 6, produced: 0, event: .close))
    #expect(decoder.closeStatus == 1001)
    #expect(Array(decoder.controlPayload) == [0x03, 0xE9, 0x68, 0x69])
    #expect(decoder.isAtFrameBoundary)
}

/// Every malformed header of the brief, written out by hand, is its own typed error.
@Test func hostileFrames() {
    let cases: [([UInt8], WebSocketFrameError)] = [
        ([0x83, 0x00], .unknownOpcode(3)),
        ([0x87, 0x00], .unknownOpcode(7)),
        ([0x8B, 0x00], .unknownOpcode(0xB)),
        ([0x8F, 0x00], .unknownOpcode(0xF)),
        ([0xC2, 0x00], .reservedBitsSet),
        ([0xA2, 0x00], .reservedBitsSet),
        ([0x92, 0x00], .reservedBitsSet),
        ([0x82, 0x81, 1, 2, 3, 4, 0], .maskedServerFrame),
        ([0x89, 0x7E, 0x00, 0x7E], .controlFrameTooLong),
        ([0x88, 0x7F], .controlFrameTooLong),
        ([0x09, 0x00], .fragmentedControlFrame),
        ([0x08, 0x00], .fragmentedControlFrame),
        ([0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0], .lengthTopBitSet),
        ([0x82, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], .lengthTopBitSet),
        ([0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF], .nonMinimalLength),
        ([0x82, 0x7E, 0x00, 0x7D], .nonMinimalLength),
        ([0x82, 0x7E, 0x01, 0x01], .frameTooLong), // 257 > 256
        ([0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0], .frameTooLong),
        ([0x81, 0x00], .textFrame),
        ([0x80, 0x00], .unexpectedContinuation),
        ([0x02, 0x01, 0x41, 0x82, 0x00], .expectedContinuation),
        ([0x88, 0x01, 0x03], .invalidClosePayload),
    ]
    for (bytes, error) in cases {
        let got = decodeAll(bytes, step: 1, max: 256)
        #expect(got.error == error, "\(bytes)")
    }
    // A frame exactly at the maximum is accepted.
    let at = decodeAll([0x82, 0x7E, 0x01, 0x00] + [UInt8](repeating: 9, count: 256), max: 256)
    #expect(at.error == nil && at.data.count == 256)
}

/// After an error the decoder keeps refusing, even well-formed input.
@Test func errorIsSticky() {
    var decoder = WebSocketFrameDecoder(maxFrameLength: 10)
    var out = [UInt8](repeating: 0, count: 8)
    for frame: [UInt8] in [[0x81, 0x00], [0x82, 0x01, 0x41]] {
        #expect(throws: WebSocketFrameError.textFrame) {
            try frame.withUnsafeBytes { i in try out.withUnsafeMutableBytes { try decoder.decode(i, into: $0) } }
        }
    }
}

/// What the encoder writes, unmasked by hand (as a server does), decodes to the same payload.
@Test func encoderOutputUnmaskedRoundTrips() throws {
    let payload = (0..<300).map { UInt8(truncatingIfNeeded: $0 * 13) }
    var frame = try encode(.binary, payload, mask: 0xDEAD_BEEF)
    let key = Array(frame[4..<8])
    frame[1] &= 0x7F
    let body = frame[8...].enumerated().map { $0.element ^ key[$0.offset % 4] }
    #expect(decodeAll(Array(frame[0..<4]) + body, step: 7).data == payload)
}
