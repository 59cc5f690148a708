import TinyPlatform

/// The `CryptoProvider` a client was given, kept as a function value, so the client types stay
/// generic over their transport and platform only. Made by the clients' generic initialisers:
/// in Embedded builds the stored function is the specialised call of the provider given (no
/// existential, no witness-table lookup); a call happens once per SAS token, not per message.
package struct StoredCrypto: CryptoProvider {
    private let hmac: (UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeMutableRawBufferPointer) throws(CryptoError) -> Void

    /// Keeps `crypto`.
    ///
    /// - Parameter crypto: the provider the application chose.
    package init<C: CryptoProvider>(_ crypto: C) {
        hmac = { (key, message, output) throws(CryptoError) in try crypto.hmacSHA256(key: key, message: message, into: output) }
    }

    /// HMAC-SHA256 through the provider kept.
    ///
    /// - Parameters:
    ///   - key: the raw key bytes.
    ///   - message: the bytes to authenticate.
    ///   - output: receives the 32-byte tag.
    /// - Throws: what the provider throws.
    package func hmacSHA256(key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer,
                            into output: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        try hmac(key, message, output)
    }
}
