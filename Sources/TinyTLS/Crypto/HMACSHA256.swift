import CMbedTLS
import TinyPlatform

/// HMAC-SHA256 (RFC 2104); used to sign IoT Hub and DPS SAS tokens and to derive DPS group
/// device keys.
///
/// Built on mbedTLS's SHA-256 context on the stack rather than `mbedtls_md_hmac`, which
/// allocates (`mbedtls_md_setup` callocs two contexts on every call): signing a token allocates
/// nothing.
package enum HMACSHA256 {
    /// Size of an HMAC-SHA256 tag in bytes.
    package static let macSize = 32
    /// SHA-256's block size: longer keys are hashed first, shorter ones zero-padded to it.
    static let blockSize = 64

    /// Computes HMAC-SHA256 of `message` under `key` (raw key bytes, any length) and writes the
    /// 32-byte tag to the start of `output`.
    ///
    /// - Parameters:
    ///   - key: the raw key bytes.
    ///   - message: the bytes to authenticate.
    ///   - output: receives the tag in its first 32 bytes.
    /// - Throws: `bufferTooSmall` if `output` holds fewer than 32 bytes; `backend` if mbedTLS fails.
    package static func authenticate(key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer,
                                    into output: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        guard output.count >= macSize, output.baseAddress != nil else { throw .bufferTooSmall(needed: macSize) }
        let tag = UnsafeMutableRawBufferPointer(rebasing: output[0..<macSize])
        let code = withUnsafeTemporaryAllocation(byteCount: blockSize, alignment: 8) { pad -> Int32 in
            defer { zeroize(pad) }
            // K0: the key, or its digest when longer than a block, zero-padded to a block.
            pad.initializeMemory(as: UInt8.self, repeating: 0)
            if key.count > blockSize {
                let code = digest(key, into: UnsafeMutableRawBufferPointer(rebasing: pad[0..<macSize]))
                guard code == 0 else { return code }
            } else if key.count > 0 {
                pad.copyMemory(from: key)
            }
            // Inner hash H((K0 ^ ipad) || message) into the output, then the outer one over it.
            for i in 0..<blockSize { pad[i] ^= 0x36 }
            let inner = digest(UnsafeRawBufferPointer(pad), message, into: tag)
            guard inner == 0 else { return inner }
            for i in 0..<blockSize { pad[i] ^= 0x36 ^ 0x5C }
            return digest(UnsafeRawBufferPointer(pad), UnsafeRawBufferPointer(tag), into: tag)
        }
        guard code == 0 else {
            zeroize(tag)
            throw .backend(code: code)
        }
    }

    /// SHA-256 of `first` followed by `second` into the first 32 bytes of `output` (which may
    /// be `second`: the digest is written only at the end). Returns mbedTLS's code.
    private static func digest(_ first: UnsafeRawBufferPointer,
                               _ second: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
                               into output: UnsafeMutableRawBufferPointer) -> Int32 {
        var context = mbedtls_sha256_context()
        mbedtls_sha256_init(&context)
        defer { mbedtls_sha256_free(&context) }
        var code = mbedtls_sha256_starts_ret(&context, 0)
        if code == 0, let bytes = first.baseAddress, first.count > 0 {
            code = mbedtls_sha256_update_ret(&context, bytes.assumingMemoryBound(to: UInt8.self), first.count)
        }
        if code == 0, let bytes = second.baseAddress, second.count > 0 {
            code = mbedtls_sha256_update_ret(&context, bytes.assumingMemoryBound(to: UInt8.self), second.count)
        }
        guard code == 0, let out = output.baseAddress else { return code }
        return mbedtls_sha256_finish_ret(&context, out.assumingMemoryBound(to: UInt8.self))
    }
}
