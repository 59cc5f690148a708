import CMbedTLS
import TinyPlatform

/// SHA-256 (FIPS 180-4) through mbedTLS's generic message-digest layer.
package enum SHA256 {
    /// Size of a SHA-256 digest in bytes.
    package static let digestSize = 32

    /// Hashes `message` and writes the 32-byte digest to the start of `output`.
    /// Throws `bufferTooSmall` if `output` holds fewer than 32 bytes.
    package static func hash(_ message: UnsafeRawBufferPointer,
                            into output: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        guard output.count >= digestSize, let out = output.baseAddress else { throw .bufferTooSmall(needed: digestSize) }
        guard let info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256) else { throw .unsupportedAlgorithm }
        let code = CryptoBytes.withPointer(message) { input in
            mbedtls_md(info, input, message.count, out.assumingMemoryBound(to: UInt8.self))
        }
        guard code == 0 else { throw .backend(code: code) }
    }
}

/// Helpers for handing possibly-empty Swift buffers to C.
enum CryptoBytes {
    /// Calls `body` with a non-NULL pointer to `bytes` (a pointer to a dummy byte when empty:
    /// mbedTLS may not accept NULL even for zero lengths).
    static func withPointer<R>(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafePointer<UInt8>) -> R) -> R {
        if let base = bytes.baseAddress, bytes.count > 0 {
            return body(base.assumingMemoryBound(to: UInt8.self))
        }
        var dummy: UInt8 = 0
        return withUnsafePointer(to: &dummy) { body($0) }
    }
}
