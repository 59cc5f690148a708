import Testing
import TinyWebSocket

/// RFC 6455 §5.7: "A single-frame masked text message" with key 37 fa 21 3d.
@Test func rfcMaskedTextExample() throws {
    #expect(try encode(.text, hello, mask: 0x37fa_213d)
        == [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])
}

/// RFC 6455 §5.7: "Pong response ... (masked)" with the same key.
@Test func rfcMaskedPongExample() throws {
    #expect(try encode(.pong, hello, mask: 0x37fa_213d)
        == [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])
}

/// Length boundaries: 125 in 7 bits, 126 and 65,535 in 16 bits, 65,536 in 64 bits (§5.2).
@Test func lengthEncodings() throws {
    let zeroMask: UInt32 = 0 // XOR with 0 leaves the payload readable
    let f125 = try encode(.binary, [UInt8](repeating: 7, count: 125), mask: zeroMask)
    #expect(Array(f125[0..<6]) == [0x82, 0x80 | 125, 0, 0, 0, 0])
    #expect(f125.count == 131)
    let f126 = try encode(.binary, [UInt8](repeating: 7, count: 126), mask: zeroMask)
    #expect(Array(f126[0..<8]) == [0x82, 0xFE, 0x00, 0x7E, 0, 0, 0, 0])
    let f65535 = try encode(.binary, [UInt8](repeating: 7, count: 65535), mask: zeroMask)
    #expect(Array(f65535[0..<4]) == [0x82, 0xFE, 0xFF, 0xFF])
    #expect(f65535.count == 65535 + 8)
    let f65536 = try encode(.binary, [UInt8](repeating: 7, count: 65536), mask: zeroMask)
    #expect(Array(f65536[0..<14]) == [0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])
    #expect(f65536.count == 65536 + 14)
    #expect(try encode(.binary, [], mask: 0x0102_0304) == [0x82, 0x80, 1, 2, 3, 4])
}

/// The mask cycles over the payload every 4 bytes (§5.3) and a cleared FIN is written as such.
@Test func maskCyclesAndFin() throws {
    let payload: [UInt8] = [0, 0, 0, 0, 0, 0, 0xFF]
    #expect(try encode(.binary, payload, mask: 0xA1B2_C3D4, fin: false)
        == [0x02, 0x87, 0xA1, 0xB2, 0xC3, 0xD4, 0xA1, 0xB2, 0xC3, 0xD4, 0xA1, 0xB2, 0x3C])
}

@Test func refusals() throws {
    #expect(throws: WebSocketFrameError.controlFrameTooLong) {
        try encode(.ping, [UInt8](repeating: 0, count: 126), mask: 1)
    }
    #expect(throws: WebSocketFrameError.fragmentedControlFrame) { try encode(.close, [], mask: 1, fin: false) }
    var small = [UInt8](repeating: 0, count: 10)
    #expect(throws: WebSocketFrameError.bufferTooSmall) {
        try hello.withUnsafeBytes { p in
            try small.withUnsafeMutableBytes { try WebSocketFrameEncoder.encode(opcode: .binary, payload: p, mask: 1, into: $0) }
        }
    }
    // 11 bytes fit exactly.
    var exact = [UInt8](repeating: 0, count: 11)
    let n = try hello.withUnsafeBytes { p in
        try exact.withUnsafeMutableBytes { try WebSocketFrameEncoder.encode(opcode: .binary, payload: p, mask: 1, into: $0) }
    }
    #expect(n == 11)
}
