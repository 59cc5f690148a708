import CMbedTLS
import TinyPlatform

/// SHA-1 (FIPS 180-4) through mbedTLS's generic message-digest layer. Used only where a
/// protocol fixes it: the WebSocket handshake's `Sec-WebSocket-Accept` (RFC 6455 §4.2.2).
/// Not for anything that needs collision resistance.
package enum SHA1 {
    /// Size of a SHA-1 digest in bytes.
    package static let digestSize = 20

    /// Hashes `message` and writes the 20-byte digest to the start of `output`.
    /// Throws `bufferTooSmall` if `output` holds fewer than 20 bytes.
    package static func hash(_ message: UnsafeRawBufferPointer,
                            into output: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        guard output.count >= digestSize, let out = output.baseAddress else { throw .bufferTooSmall(needed: digestSize) }
        guard let info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA1) else { throw .unsupportedAlgorithm }
        let code = CryptoBytes.withPointer(message) { input in
            mbedtls_md(info, input, message.count, out.assumingMemoryBound(to: UInt8.self))
        }
        guard code == 0 else { throw .backend(code: code) }
    }
}
