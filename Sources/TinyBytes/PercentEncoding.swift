/// Why percent encoding or decoding failed.
package enum PercentEncodingError: Error, Equatable {
    /// The output buffer is too small; `needed` bytes would fit the result.
    case bufferTooSmall(needed: Int)
    /// A `%` at byte `offset` of the input is not followed by two hex digits.
    case malformedEscape(offset: Int)
}

/// The package's one percent-encoder (RFC 3986 §2.1) as IoT Hub expects it: unreserved bytes
/// `A-Z a-z 0-9 - _ . ~` pass through, every other byte becomes `%XX` with UPPERCASE hex (the
/// same as Azure SDK for Embedded C, and as Python's `urllib.parse.quote(s, safe="")`). Space
/// is `%20`, never `+`. Used for property bags, SAS resource URIs, user names and HTTP request
/// targets.
package enum PercentEncoding {
    /// Whether `byte` is in the RFC 3986 unreserved set.
    ///
    /// - Parameter byte: the byte.
    @inline(__always)
    package static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2D, 0x5F, 0x2E, 0x7E: return true
        default: return false
        }
    }

    /// The length of the encoded form of `input`.
    ///
    /// - Parameter input: the bytes to encode.
    package static func encodedLength(_ input: UnsafeRawBufferPointer) -> Int {
        var n = 0
        for byte in input { n += isUnreserved(byte) ? 1 : 3 }
        return n
    }

    /// Encodes `input` into `output`.
    ///
    /// - Parameters:
    ///   - input: the bytes to encode.
    ///   - output: where the text goes.
    /// - Returns: the encoded length.
    /// - Throws: `bufferTooSmall` (nothing useful written) when `output` is too small.
    package static func encode(_ input: UnsafeRawBufferPointer,
                               into output: UnsafeMutableRawBufferPointer) throws(PercentEncodingError) -> Int {
        var sink = ByteSink(output)
        sink.percentEncoded(input)
        guard !sink.overflowed else { throw .bufferTooSmall(needed: sink.count) }
        return sink.count
    }

    /// Decodes `input` into `output`. Hex digits of either case are accepted; `+` stays `+`.
    /// `output` may be the same memory as `input` (decoding never writes ahead of what it has read).
    ///
    /// - Parameters:
    ///   - input: percent-encoded text.
    ///   - output: where the bytes go.
    /// - Returns: the decoded length.
    /// - Throws: `malformedEscape` for a `%` not followed by two hex digits; `bufferTooSmall`
    ///   when `output` cannot hold the result (nothing written then).
    package static func decode(_ input: UnsafeRawBufferPointer,
                               into output: UnsafeMutableRawBufferPointer) throws(PercentEncodingError) -> Int {
        let needed = try decodedLength(input)
        guard needed <= output.count else { throw .bufferTooSmall(needed: needed) }
        return decodeValidated(input, into: output)
    }

    /// The length of the decoded form of `input`, validating every escape.
    ///
    /// - Parameter input: percent-encoded text.
    /// - Throws: `malformedEscape` for a `%` not followed by two hex digits.
    package static func decodedLength(_ input: UnsafeRawBufferPointer) throws(PercentEncodingError) -> Int {
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

    /// Decodes `input`, which `decodedLength` accepted, into `output`, which holds at least that
    /// many bytes. Returns the decoded length.
    ///
    /// - Parameters:
    ///   - input: validated percent-encoded text.
    ///   - output: at least `decodedLength(input)` bytes.
    package static func decodeValidated(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
        var i = 0
        var o = 0
        while i < input.count, o < output.count {
            let byte = input[i]
            if byte == 0x25, i + 2 < input.count, let high = Hex.value(input[i + 1]), let low = Hex.value(input[i + 2]) {
                output[o] = high << 4 | low
                i += 3
            } else {
                output[o] = byte
                i += 1
            }
            o += 1
        }
        return o
    }
}

extension ByteSink {
    /// Appends `data` percent-encoded (RFC 3986 unreserved set kept, uppercase hex).
    ///
    /// - Parameter data: the bytes to encode.
    package mutating func percentEncoded(_ data: UnsafeRawBufferPointer) {
        for value in data {
            if PercentEncoding.isUnreserved(value) {
                byte(value)
            } else {
                byte(0x25)
                byte(Hex.upper(value >> 4))
                byte(Hex.upper(value & 0x0F))
            }
        }
    }
}
