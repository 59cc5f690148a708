import CMbedTLS

/// Standard Base64 (RFC 4648 §4, `+/` alphabet, `=` padding) through mbedTLS, into caller buffers.
public enum Base64 {
    /// Length of the Base64 text for `byteCount` input bytes (padding included, no terminator).
    public static func encodedLength(_ byteCount: Int) -> Int { (byteCount + 2) / 3 * 4 }

    /// Upper bound of the decoded size of `textLength` Base64 characters.
    public static func maxDecodedLength(_ textLength: Int) -> Int { (textLength + 3) / 4 * 3 }

    /// Encodes `input` as Base64 text into `output` and returns the text length.
    /// Unlike `mbedtls_base64_encode`, no NUL terminator is written, so `output` needs exactly
    /// `encodedLength(input.count)` bytes.
    public static func encode(_ input: UnsafeRawBufferPointer,
                              into output: UnsafeMutableRawBufferPointer) throws(CryptoError) -> Int {
        let needed = encodedLength(input.count)
        guard output.count >= needed else { throw .bufferTooSmall(needed: needed) }
        guard let outBase = output.baseAddress, input.count > 0 else { return 0 }
        // mbedTLS always appends a NUL, so encode through a small stack chunk (a multiple of
        // 3 input bytes, hence padding only in the last chunk) and copy the text out.
        let chunkInput = 48
        var written = 0
        let code: Int32 = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 68) { scratch in
            var read = 0
            while read < input.count {
                let take = min(chunkInput, input.count - read)
                var produced = 0
                let code = CryptoBytes.withPointer(UnsafeRawBufferPointer(rebasing: input[read..<(read + take)])) { source in
                    mbedtls_base64_encode(scratch.baseAddress, scratch.count, &produced, source, take)
                }
                guard code == 0 else { return code }
                (outBase + written).copyMemory(from: scratch.baseAddress!, byteCount: produced)
                written += produced
                read += take
            }
            return 0
        }
        guard code == 0 else { throw .backend(code: code) }
        return written
    }

    /// Decodes Base64 `text` into `output` and returns the number of bytes written.
    /// Strict: the length must be a multiple of 4 and only alphabet characters and trailing `=`
    /// are allowed (mbedTLS 2.28 alone would accept `Z` or embedded whitespace). Throws
    /// `invalidBase64` otherwise, and `bufferTooSmall` when `output` cannot hold the result.
    public static func decode(_ text: UnsafeRawBufferPointer,
                              into output: UnsafeMutableRawBufferPointer) throws(CryptoError) -> Int {
        if text.count == 0 { return 0 }
        guard text.count % 4 == 0 else { throw .invalidBase64 }
        for byte in text {
            switch byte {
            case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2B, 0x2F, 0x3D: continue
            default: throw .invalidBase64
            }
        }
        var needed = 0
        // First pass with no output: mbedTLS validates and reports the exact size.
        let probe = CryptoBytes.withPointer(text) { source in
            mbedtls_base64_decode(nil, 0, &needed, source, text.count)
        }
        if probe == MBEDTLS_ERR_BASE64_INVALID_CHARACTER { throw .invalidBase64 }
        if probe == 0 { return 0 } // nothing to decode
        guard probe == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL else { throw .backend(code: probe) }
        guard output.count >= needed, let outBase = output.baseAddress else { throw .bufferTooSmall(needed: needed) }
        var produced = 0
        let code = CryptoBytes.withPointer(text) { source in
            mbedtls_base64_decode(outBase.assumingMemoryBound(to: UInt8.self), output.count, &produced, source, text.count)
        }
        if code == MBEDTLS_ERR_BASE64_INVALID_CHARACTER { throw .invalidBase64 }
        guard code == 0 else { throw .backend(code: code) }
        return produced
    }
}
