import TinyHub
import TinyPlatform
import TinyTLS

/// base64(HMAC-SHA256(base64decode(key), message)): the signature of DPS SAS tokens and the
/// enrollment-group key derivation. The decoded key lives in stack scratch, wiped on every path.
enum ProvisioningSignature {
    /// Length of the Base64 text of a 32-byte tag.
    static let textLength = 44

    /// Writes the Base64 signature (44 bytes) into `output`; returns its length.
    static func sign(_ message: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer,
                     into output: UnsafeMutableRawBufferPointer) throws(ProvisioningProtocolError) -> Int {
        guard key.count <= SASToken.maxKeyTextLength else { throw .keyTooLong }
        guard output.count >= textLength else { throw .bufferTooSmall(needed: textLength) }
        // Key scratch (decoded key, with room for mbedTLS's size estimate) then the 32-byte tag.
        let scratchSize = Base64.maxDecodedLength(SASToken.maxKeyTextLength) + HMACSHA256.macSize
        let result: Result<Int, ProvisioningProtocolError> =
            withUnsafeTemporaryAllocation(byteCount: scratchSize, alignment: 1) { scratch in
                defer { zeroize(scratch) }
                let keyArea = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<(scratchSize - HMACSHA256.macSize)])
                let tag = UnsafeMutableRawBufferPointer(rebasing: scratch[(scratchSize - HMACSHA256.macSize)...])
                do throws(CryptoError) {
                    let keyLength = try Base64.decode(key, into: keyArea)
                    guard keyLength > 0 else { return .failure(.invalidKey) }
                    guard keyLength <= SASToken.maxKeyLength else { return .failure(.keyTooLong) }
                    try HMACSHA256.authenticate(key: UnsafeRawBufferPointer(rebasing: keyArea[0..<keyLength]),
                                                message: message, into: tag)
                    return .success(try Base64.encode(UnsafeRawBufferPointer(tag), into: output))
                } catch .invalidBase64 {
                    return .failure(.invalidKey)
                } catch {
                    return .failure(.crypto(error))
                }
            }
        return try result.get()
    }
}
