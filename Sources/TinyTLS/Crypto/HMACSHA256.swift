import CMbedTLS

/// HMAC-SHA256 (RFC 2104) through `mbedtls_md_hmac`; used to sign IoT Hub SAS tokens.
public enum HMACSHA256 {
    /// Size of an HMAC-SHA256 tag in bytes.
    public static let macSize = 32

    /// Computes HMAC-SHA256 of `message` under `key` (raw key bytes, any length) and writes the
    /// 32-byte tag to the start of `output`. Throws `bufferTooSmall` if `output` holds fewer than 32 bytes.
    public static func authenticate(key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer,
                                    into output: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        guard output.count >= macSize, let out = output.baseAddress else { throw .bufferTooSmall(needed: macSize) }
        guard let info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256) else { throw .unsupportedAlgorithm }
        let code = CryptoBytes.withPointer(key) { keyPointer in
            CryptoBytes.withPointer(message) { messagePointer in
                mbedtls_md_hmac(info, keyPointer, key.count, messagePointer, message.count,
                                out.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard code == 0 else { throw .backend(code: code) }
    }
}
