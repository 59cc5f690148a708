/// Why a cryptographic operation failed. Inputs are treated as hostile: every failure maps to
/// one of these, never to a trap.
public enum CryptoError: Error, Equatable {
    /// The output buffer is too small; `needed` bytes would fit the result.
    case bufferTooSmall(needed: Int)
    /// The implementation (mbedTLS, a secure element...) returned this error code.
    case backend(code: Int32)
    /// The implementation does not offer the algorithm (mbedTLS built without SHA-256, say).
    case unsupportedAlgorithm
}

/// The cryptography the IoT Hub and provisioning layers need, behind a protocol so they link
/// without a TLS stack: HMAC-SHA256, which signs SAS tokens and derives the device keys of
/// enrollment groups. (Their randomness comes from `Platform.random32()`, their Base64 is plain
/// Swift.)
///
/// TinyTLS's `MbedTLSCrypto` is the implementation the examples use. Another TLS stack, a
/// hardware accelerator or a secure element can provide its own; the clients take it as a
/// generic argument, so in Embedded Swift its calls are specialised like any other generic code.
///
/// ```swift
/// struct SecureElementCrypto: CryptoProvider {
///     func hmacSHA256(key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer,
///                     into output: UnsafeMutableRawBufferPointer) throws(CryptoError) {
///         guard output.count >= 32 else { throw .bufferTooSmall(needed: 32) }
///         let status = se_hmac_sha256(key.baseAddress, key.count, message.baseAddress, message.count, output.baseAddress)
///         guard status == 0 else { throw .backend(code: status) }
///     }
/// }
/// ```
public protocol CryptoProvider {
    /// Computes HMAC-SHA256 (RFC 2104 with SHA-256 of FIPS 180-4) of `message` under `key` and
    /// writes the 32-byte tag to the start of `output`.
    ///
    /// - Parameters:
    ///   - key: the raw key bytes, any length (longer than 64 bytes: hashed first, as RFC 2104 says).
    ///   - message: the bytes to authenticate.
    ///   - output: receives the tag in its first 32 bytes; nothing else is written.
    /// - Throws: `CryptoError.bufferTooSmall(needed: 32)` when `output` is shorter than 32 bytes,
    ///   another `CryptoError` when the implementation fails.
    func hmacSHA256(key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer,
                    into output: UnsafeMutableRawBufferPointer) throws(CryptoError)
}
