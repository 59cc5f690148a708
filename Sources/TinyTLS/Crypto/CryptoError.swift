/// Why a hash, HMAC or Base64 operation failed. Inputs are treated as hostile: every
/// failure maps to one of these, never to a trap.
public enum CryptoError: Error, Equatable {
    /// The output buffer is too small; `needed` bytes would fit the result.
    case bufferTooSmall(needed: Int)
    /// Base64 input contains a character outside the standard alphabet, bad padding or a bad length.
    case invalidBase64
    /// mbedTLS returned this (negative) error code.
    case backend(code: Int32)
    /// mbedTLS was built without SHA-256 (`mbedtls_md_info_from_type` returned NULL).
    case unsupportedAlgorithm
}
