/// Why Base64 decoding or encoding failed.
package enum Base64Error: Error, Equatable {
    /// The text is not strict Base64: its length is not a multiple of 4, it holds a byte outside
    /// the `A-Z a-z 0-9 + /` alphabet, or `=` anywhere but as one or two final padding bytes.
    case invalid
    /// The output buffer is too small; `needed` bytes would fit the result exactly.
    case bufferTooSmall(needed: Int)
}

/// The package's one Base64 (RFC 4648 §4: the `+/` alphabet with `=` padding), in Swift over
/// caller buffers: SAS keys and signatures, the HTTPS batch bodies, the WebSocket handshake and
/// the proxy's credentials. Decoding is strict and treats its input as hostile.
package enum Base64 {
    /// The length of the Base64 text of `byteCount` bytes (padding included).
    ///
    /// - Parameter byteCount: the number of input bytes (not negative).
    package static func encodedLength(_ byteCount: Int) -> Int { (byteCount + 2) / 3 * 4 }

    /// An upper bound of the decoded size of `textLength` characters of Base64.
    ///
    /// - Parameter textLength: the text's length.
    package static func maxDecodedLength(_ textLength: Int) -> Int { (textLength + 3) / 4 * 3 }

    /// Encodes `input` into `output` (no terminator).
    ///
    /// - Parameters:
    ///   - input: the bytes to encode.
    ///   - output: at least `encodedLength(input.count)` bytes.
    /// - Returns: the text's length.
    /// - Throws: `bufferTooSmall` when `output` is too small (nothing useful written).
    package static func encode(_ input: UnsafeRawBufferPointer,
                               into output: UnsafeMutableRawBufferPointer) throws(Base64Error) -> Int {
        var sink = ByteSink(output)
        sink.base64(input)
        guard !sink.overflowed else { throw .bufferTooSmall(needed: sink.count) }
        return sink.count
    }

    /// Decodes Base64 `text` into `output`. Strict: see `Base64Error.invalid`. Unused bits of
    /// the last character need not be zero (as in most decoders).
    ///
    /// - Parameters:
    ///   - text: the Base64 text (hostile input).
    ///   - output: where the bytes go.
    /// - Returns: the number of bytes written.
    /// - Throws: `invalid` for text that is not strict Base64 (whatever the output's size);
    ///   `bufferTooSmall` with the exact decoded size when `output` is smaller (nothing written).
    package static func decode(_ text: UnsafeRawBufferPointer,
                               into output: UnsafeMutableRawBufferPointer) throws(Base64Error) -> Int {
        let n = text.count
        guard n > 0 else { return 0 }
        guard n % 4 == 0 else { throw .invalid }
        let padding = text[n - 1] != 0x3D ? 0 : text[n - 2] != 0x3D ? 1 : 2
        var i = 0
        while i < n - padding {
            guard value(text[i]) < 64 else { throw .invalid } // `=` inside the text lands here too
            i += 1
        }
        let needed = n / 4 * 3 - padding
        guard needed <= output.count else { throw .bufferTooSmall(needed: needed) }
        var o = 0
        i = 0
        while i < n {
            let group = UInt32(value(text[i])) << 18 | UInt32(value(text[i + 1])) << 12
                | UInt32(value(text[i + 2]) & 63) << 6 | UInt32(value(text[i + 3]) & 63)
            // The last group may carry 1 or 2 padding bytes: write only its real bytes.
            let take = i + 4 == n ? 3 - padding : 3
            output[o] = UInt8(truncatingIfNeeded: group >> 16)
            if take > 1 { output[o + 1] = UInt8(truncatingIfNeeded: group >> 8) }
            if take > 2 { output[o + 2] = UInt8(truncatingIfNeeded: group) }
            o += take
            i += 4
        }
        return o
    }

    /// The 6-bit value of a Base64 character; 64 and above for any other byte (`=` included).
    @inline(__always)
    static func value(_ character: UInt8) -> UInt8 {
        switch character {
        case 0x41...0x5A: return character &- 0x41       // A-Z: 0...25
        case 0x61...0x7A: return character &- 0x47       // a-z: 26...51
        case 0x30...0x39: return character &+ 4          // 0-9: 52...61
        case 0x2B: return 62                             // +
        case 0x2F: return 63                             // /
        default: return 0xFF
        }
    }

    /// The Base64 character of a 6-bit value.
    @inline(__always)
    static func character(_ value: UInt32) -> UInt8 {
        let v = UInt8(truncatingIfNeeded: value & 63)
        return v < 26 ? 0x41 &+ v : v < 52 ? 0x47 &+ v : v < 62 ? v &- 4 : v == 62 ? 0x2B : 0x2F
    }
}

extension ByteSink {
    /// Appends the Base64 text of `data` (with padding).
    ///
    /// - Parameter data: the bytes to encode.
    package mutating func base64(_ data: UnsafeRawBufferPointer) {
        let end = count + Base64.encodedLength(data.count)
        if end <= buffer.count {
            var i = 0
            var o = count
            while i < data.count {
                let take = min(3, data.count - i)
                var group = UInt32(data[i]) << 16
                if take > 1 { group |= UInt32(data[i + 1]) << 8 }
                if take > 2 { group |= UInt32(data[i + 2]) }
                buffer[o] = Base64.character(group >> 18)
                buffer[o + 1] = Base64.character(group >> 12)
                buffer[o + 2] = take > 1 ? Base64.character(group >> 6) : 0x3D
                buffer[o + 3] = take > 2 ? Base64.character(group) : 0x3D
                i += 3
                o += 4
            }
        }
        count = end
    }
}
