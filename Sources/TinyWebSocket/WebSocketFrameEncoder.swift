/// Writes client frames (RFC 6455 §5.2): FIN set unless asked otherwise, the MASK bit always set,
/// the payload length in the fewest bytes (7, 16 or 64 bits), then the 4-byte masking key and
/// the payload XORed with it (§5.3). Works on caller buffers only; never allocates.
///
/// ```swift
/// let size = try WebSocketFrameEncoder.encode(opcode: .binary, payload: packet, mask: SystemPlatform().random32(), into: frame)
/// try tls.send(UnsafeRawBufferPointer(rebasing: frame[0..<size]), timeoutMs: 5_000)
/// ```
public enum WebSocketFrameEncoder {
    /// The header size of a masked client frame carrying `payloadLength` bytes (6, 8 or 14).
    ///
    /// - Parameter payloadLength: the payload's length in bytes.
    /// - Returns: the header's length in bytes.
    public static func headerLength(payloadLength: Int) -> Int {
        if payloadLength < 126 { return 6 }
        if payloadLength <= 0xFFFF { return 8 }
        return 14
    }

    /// Encodes one frame of `payload` masked with `mask` (its bytes taken most significant
    /// first) into `out`, returning the frame's size. Control frames longer than 125 bytes and
    /// an `out` too small are refused with a typed error; nothing is written past `out`.
    ///
    /// - Parameters:
    ///   - opcode: the frame's type.
    ///   - fin: whether it is the message's last frame.
    ///   - payload: the bytes to carry.
    ///   - mask: the masking key.
    ///   - out: where the frame goes.
    /// - Returns: the frame's size.
    /// - Throws: `WebSocketFrameError` for a control frame over 125 bytes or an `out` too small.
    public static func encode(
        opcode: WebSocketOpcode, fin: Bool = true, payload: UnsafeRawBufferPointer, mask: UInt32,
        into out: UnsafeMutableRawBufferPointer
    ) throws(WebSocketFrameError) -> Int {
        let count = payload.count
        if opcode.isControl && (count > 125 || !fin) {
            throw count > 125 ? .controlFrameTooLong : .fragmentedControlFrame
        }
        let header = headerLength(payloadLength: count)
        guard out.count >= header, out.count - header >= count else { throw .bufferTooSmall }
        out[0] = (fin ? 0x80 : 0) | opcode.rawValue
        var at = 2
        if count < 126 {
            out[1] = 0x80 | UInt8(count)
        } else if count <= 0xFFFF {
            out[1] = 0x80 | 126
            out[2] = UInt8(truncatingIfNeeded: count >> 8)
            out[3] = UInt8(truncatingIfNeeded: count)
            at = 4
        } else {
            out[1] = 0x80 | 127
            let length = UInt64(count)
            for i in 0..<8 { out[2 + i] = UInt8(truncatingIfNeeded: length >> UInt64(56 - 8 * i)) }
            at = 10
        }
        let key: (UInt8, UInt8, UInt8, UInt8) = (
            UInt8(truncatingIfNeeded: mask >> 24), UInt8(truncatingIfNeeded: mask >> 16),
            UInt8(truncatingIfNeeded: mask >> 8), UInt8(truncatingIfNeeded: mask)
        )
        out[at] = key.0; out[at + 1] = key.1; out[at + 2] = key.2; out[at + 3] = key.3
        at += 4
        var i = 0
        while i < count {
            let k: UInt8
            switch i & 3 {
            case 0: k = key.0
            case 1: k = key.1
            case 2: k = key.2
            default: k = key.3
            }
            out[at + i] = payload[i] ^ k
            i += 1
        }
        return at + count
    }
}
