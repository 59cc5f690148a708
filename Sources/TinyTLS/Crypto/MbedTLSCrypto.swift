import TinyPlatform

/// The default `CryptoProvider`: HMAC-SHA256 from mbedTLS, on a SHA-256 context on the stack
/// (no allocation per call). What the examples pass to the hub and provisioning clients.
///
/// ```swift
/// let client = try HubClient(connectionString: text, transport: tls, platform: SystemPlatform(),
///                            crypto: MbedTLSCrypto(), buffers: buffers)
/// ```
public struct MbedTLSCrypto: CryptoProvider {
    /// The mbedTLS implementation (it has no state).
    public init() {}

    /// HMAC-SHA256 of `message` under `key` into the first 32 bytes of `output`.
    ///
    /// - Parameters:
    ///   - key: the raw key bytes, any length.
    ///   - message: the bytes to authenticate.
    ///   - output: receives the 32-byte tag.
    /// - Throws: `bufferTooSmall` if `output` holds fewer than 32 bytes; `backend` if mbedTLS fails.
    public func hmacSHA256(key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer,
                           into output: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        try HMACSHA256.authenticate(key: key, message: message, into: output)
    }
}
