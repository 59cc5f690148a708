import TinyBytes
import TinyHub
import TinyPlatform

/// Symmetric-key credentials for DPS: SAS tokens for the `registration` policy and the
/// per-device key of an enrollment group.
///
/// ```swift
/// let deviceKey = try ProvisioningCredentials.deriveDeviceKey(groupKey: groupKey, registrationID: "dev-1",
///                                                             crypto: MbedTLSCrypto())
/// ```
public enum ProvisioningCredentials {
    /// Length of a derived device key (Base64 of a 32-byte HMAC-SHA256 tag).
    public static let derivedKeyLength = SASToken.signatureLength

    /// Derives the device key of `registrationID` from an enrollment group's Base64 key:
    /// base64(HMAC-SHA256(base64decode(groupKey), registrationID)).
    ///
    /// - Parameters:
    ///   - groupKey: the enrollment group's Base64 key.
    ///   - registrationID: the device's registration id.
    ///   - crypto: computes the HMAC-SHA256 (`MbedTLSCrypto()` in the examples).
    ///   - output: at least 44 bytes.
    /// - Returns: 44, the derived key's length.
    /// - Throws: `ProvisioningProtocolError` (bad id or key, small buffer, crypto failure).
    public static func deriveDeviceKey<C: CryptoProvider>(groupKey: UnsafeRawBufferPointer, registrationID: UnsafeRawBufferPointer,
                                                          crypto: C, into output: UnsafeMutableRawBufferPointer)
        throws(ProvisioningProtocolError) -> Int {
        try ProvisioningIdentity.validate(registrationID)
        do throws(SASTokenError) {
            return try SASToken.sign(registrationID, key: groupKey, crypto: crypto, into: output)
        } catch {
            throw ProvisioningProtocolError(error)
        }
    }

    /// Derives the device key of `registrationID` from an enrollment group's Base64 key, as
    /// `deriveDeviceKey(groupKey:registrationID:crypto:into:)` with byte views, taking and
    /// returning strings (the scratch copies are zeroed before they are freed).
    ///
    /// ```swift
    /// let deviceKey = try ProvisioningCredentials.deriveDeviceKey(groupKey: groupKey, registrationID: "dev-42",
    ///                                                             crypto: MbedTLSCrypto())
    /// ```
    ///
    /// - Parameters:
    ///   - groupKey: the enrollment group's Base64 key.
    ///   - registrationID: the device's registration id.
    ///   - crypto: computes the HMAC-SHA256 (`MbedTLSCrypto()` in the examples).
    /// - Returns: the derived Base64 key (`derivedKeyLength` characters).
    /// - Throws: `ProvisioningProtocolError` (bad id or key, crypto failure).
    public static func deriveDeviceKey<C: CryptoProvider>(groupKey: String, registrationID: String, crypto: C)
        throws(ProvisioningProtocolError) -> String {
        let copy = OwnedText([groupKey, registrationID])
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: derivedKeyLength, alignment: 1)
        defer {
            zeroize(output)
            output.deallocate()
        }
        let length = try withExtendedLifetime(copy) { () -> Result<Int, ProvisioningProtocolError> in
            Result { () throws(ProvisioningProtocolError) in
                try deriveDeviceKey(groupKey: copy[0], registrationID: copy[1], crypto: crypto, into: output)
            }
        }.get()
        return String(decoding: UnsafeRawBufferPointer(rebasing: output[0..<length]), as: UTF8.self)
    }

    /// Writes the MQTT password for DPS:
    /// `SharedAccessSignature sr={sr}&sig={urlenc(sig)}&se={expiry}&skn=registration`, where
    /// `sr` = urlenc(`{idScope}/registrations/{registrationId}`) and `sig` signs `sr + "\n" + expiry`
    /// with the Base64 `key` (individual enrollment key or derived group key).
    ///
    /// - Parameters:
    ///   - idScope: the DPS ID scope.
    ///   - registrationID: the device's registration id.
    ///   - key: the Base64 key.
    ///   - expiry: Unix seconds.
    ///   - crypto: computes the HMAC-SHA256.
    ///   - output: where the token goes.
    /// - Returns: the token's length.
    /// - Throws: `ProvisioningProtocolError` (bad ids or key, small buffer, crypto failure).
    public static func writeSASToken<C: CryptoProvider>(idScope: UnsafeRawBufferPointer, registrationID: UnsafeRawBufferPointer,
                                                        key: UnsafeRawBufferPointer, expiry: UInt64, crypto: C,
                                                        into output: UnsafeMutableRawBufferPointer)
        throws(ProvisioningProtocolError) -> Int {
        try ProvisioningIdentity.validate(idScope)
        try ProvisioningIdentity.validate(registrationID)
        do throws(SASTokenError) {
            return try SASToken.write(resource: { sink in
                ProvisioningIdentity.writeResource(idScope: idScope, registrationID: registrationID, into: &sink)
            }, key: key, keyName: Bytes.view("registration"), expiry: expiry, crypto: crypto, into: output)
        } catch {
            throw ProvisioningProtocolError(error)
        }
    }
}

extension ProvisioningProtocolError {
    /// The provisioning reading of a SAS failure (identities are checked before signing).
    init(_ error: SASTokenError) {
        switch error {
        case .bufferTooSmall(let needed): self = .bufferTooSmall(needed: needed)
        case .emptyIdentity: self = .invalidIdentity
        case .invalidKey: self = .invalidKey
        case .keyTooLong: self = .keyTooLong
        case .crypto(let reason): self = .crypto(reason)
        }
    }
}
