/// Why percent encoding or decoding failed.
public enum PercentEncodingError: Error, Equatable {
    /// The output buffer is too small; `needed` bytes would fit the result.
    case bufferTooSmall(needed: Int)
    /// A `%` at byte `offset` of the input is not followed by two hex digits.
    case malformedEscape(offset: Int)
}

/// RFC 3986 percent encoding as IoT Hub expects it: unreserved bytes `A-Z a-z 0-9 - _ . ~`
/// pass through, every other byte becomes `%XX` with UPPERCASE hex (Azure SDK for C
/// `az_span.c:943-956`, equal to Python `urllib.parse.quote(s, safe="")`). Space is `%20`, never `+`.
public enum PercentEncoding {
    /// Whether `byte` is in the RFC 3986 unreserved set.
    @inline(__always)
    public static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2D, 0x5F, 0x2E, 0x7E: return true
        default: return false
        }
    }

    /// Length of the encoded form of `input`.
    public static func encodedLength(_ input: UnsafeRawBufferPointer) -> Int {
        var n = 0
        for byte in input { n += isUnreserved(byte) ? 1 : 3 }
        return n
    }

    /// Encodes `input` into `output`; returns the encoded length.
    public static func encode(_ input: UnsafeRawBufferPointer,
                              into output: UnsafeMutableRawBufferPointer) throws(PercentEncodingError) -> Int {
        let needed = encodedLength(input)
        guard needed <= output.count else { throw .bufferTooSmall(needed: needed) }
        var sink = ByteSink(output)
        sink.percentEncoded(input)
        return sink.count
    }

    /// Decodes `input` into `output`; returns the decoded length. Hex digits of either case
    /// are accepted; `+` stays `+`. `output` may be the same memory as `input` (decoding never
    /// writes ahead of what it has read). Throws `malformedEscape` for `%` not followed by two
    /// hex digits.
    public static func decode(_ input: UnsafeRawBufferPointer,
                              into output: UnsafeMutableRawBufferPointer) throws(PercentEncodingError) -> Int {
        let needed = try decodedLength(input)
        guard needed <= output.count else { throw .bufferTooSmall(needed: needed) }
        var i = 0
        var o = 0
        while i < input.count {
            let byte = input[i]
            if byte == 0x25 {
                // decodedLength validated both digits.
                output[o] = Hex.value(input[i + 1])! << 4 | Hex.value(input[i + 2])!
                i += 3
            } else {
                output[o] = byte
                i += 1
            }
            o += 1
        }
        return o
    }

    /// Length of the decoded form of `input`, validating every escape.
    public static func decodedLength(_ input: UnsafeRawBufferPointer) throws(PercentEncodingError) -> Int {
        var i = 0
        var n = 0
        while i < input.count {
            if input[i] == 0x25 {
                guard i + 2 < input.count, Hex.value(input[i + 1]) != nil, Hex.value(input[i + 2]) != nil else {
                    throw .malformedEscape(offset: i)
                }
                i += 3
            } else {
                i += 1
            }
            n += 1
        }
        return n
    }
}
