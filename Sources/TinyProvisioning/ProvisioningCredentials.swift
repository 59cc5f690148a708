/// Symmetric-key credentials for DPS: SAS tokens for the `registration` policy and the
/// per-device key of an enrollment group.
public enum ProvisioningCredentials {
    /// Length of a derived device key (Base64 of a 32-byte HMAC-SHA256 tag).
    public static let derivedKeyLength = ProvisioningSignature.textLength

    /// Derives the device key of `registrationID` from an enrollment group's Base64 key:
    /// base64(HMAC-SHA256(base64decode(groupKey), registrationID)). Writes 44 bytes; returns 44.
    public static func deriveDeviceKey(groupKey: UnsafeRawBufferPointer, registrationID: UnsafeRawBufferPointer,
                                       into output: UnsafeMutableRawBufferPointer) throws(ProvisioningProtocolError) -> Int {
        try ProvisioningIdentity.validate(registrationID)
        return try ProvisioningSignature.sign(registrationID, key: groupKey, into: output)
    }

    /// Writes the MQTT password for DPS:
    /// `SharedAccessSignature sr={sr}&sig={urlenc(sig)}&se={expiry}&skn=registration`, where
    /// `sr` = urlenc(`{idScope}/registrations/{registrationId}`) and `sig` signs `sr + "\n" + expiry`
    /// with the Base64 `key` (individual enrollment key or derived group key). Returns its length.
    public static func writeSASToken(idScope: UnsafeRawBufferPointer, registrationID: UnsafeRawBufferPointer,
                                     key: UnsafeRawBufferPointer, expiry: UInt64,
                                     into output: UnsafeMutableRawBufferPointer) throws(ProvisioningProtocolError) -> Int {
        try ProvisioningIdentity.validate(idScope)
        try ProvisioningIdentity.validate(registrationID)
        var sink = ProvisioningSink(output)
        sink.literal("SharedAccessSignature sr=")
        let resourceStart = sink.count
        ProvisioningIdentity.writeResource(idScope: idScope, registrationID: registrationID, into: &sink)
        let resourceEnd = sink.count
        // The string-to-sign is built in place after `sr`, then overwritten by `&sig=`.
        sink.byte(0x0A)
        sink.decimal(expiry)
        guard !sink.overflowed else { throw .bufferTooSmall(needed: sink.count + 80) }
        let toSign = UnsafeRawBufferPointer(rebasing: output[resourceStart..<sink.count])
        var signature = InlineArray<48, UInt8>(repeating: 0)
        var signatureSpan = signature.mutableSpan
        let signatureLength = try signatureSpan.withUnsafeMutableBytes {
            (out) throws(ProvisioningProtocolError) -> Int in
            try ProvisioningSignature.sign(toSign, key: key, into: out)
        }
        sink.truncate(to: resourceEnd)
        sink.literal("&sig=")
        signature.span.withUnsafeBytes { sig in
            sink.percentEncoded(UnsafeRawBufferPointer(rebasing: sig[0..<signatureLength]))
        }
        sink.literal("&se=")
        sink.decimal(expiry)
        sink.literal("&skn=registration")
        guard !sink.overflowed else { throw .bufferTooSmall(needed: sink.count) }
        return sink.count
    }
}
