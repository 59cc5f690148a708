import TinyBytes
import TinyPlatform

/// Why a SAS token could not be written.
public enum SASTokenError: Error, Equatable {
    /// The output buffer is too small; `needed` bytes would fit the token (when known,
    /// otherwise at least that many).
    case bufferTooSmall(needed: Int)
    /// The host name or device id is empty (or a module id was given but empty).
    case emptyIdentity
    /// The key is not valid Base64 or decodes to nothing.
    case invalidKey
    /// The key decodes to more than `SASToken.maxKeyLength` bytes.
    case keyTooLong
    /// The `CryptoProvider` failed to compute the HMAC.
    case crypto(CryptoError)
}

/// Shared Access Signature tokens for IoT Hub device and module identities, computed the way
/// Azure SDK for Embedded C does (`az_iot_hub_client_sas.c:22-159`):
///
/// - `sr` = urlenc(host) + `%2Fdevices%2F` + urlenc(deviceId) [+ `%2Fmodules%2F` + urlenc(moduleId)]
/// - string-to-sign = `sr` + `\n` + decimal expiry (the *encoded* `sr`; the hub checks the literal text it receives)
/// - `sig` = urlenc(base64(HMAC-SHA256(base64decode(key), string-to-sign)))
/// - token = `SharedAccessSignature sr=…&sig=…&se=…[&skn=…]` (`skn` raw, only with a key name)
///
/// ```swift
/// let token = UnsafeMutableRawBufferPointer.allocate(byteCount: 512, alignment: 1)
/// let length = try SASToken.write(for: parsed, expiry: UInt64(SystemPlatform().wallSeconds()) + 3_600,
///                                 crypto: MbedTLSCrypto(), into: token)
/// // token[0..<length] is the MQTT password: SharedAccessSignature sr=…&sig=…&se=…
/// ```
public enum SASToken {
    /// Largest accepted decoded key, in bytes (IoT Hub keys are 16–64 bytes).
    public static let maxKeyLength = 128
    /// Longest accepted key text (Base64 of `maxKeyLength` bytes).
    public static let maxKeyTextLength = 172
    /// Stack scratch used to decode a key: the longest key text decodes to at most 129 bytes.
    static let maxKeyScratch = 132

    /// Writes a token for `host`/`deviceID`[/`moduleID`] signed with the Base64 `key`, valid until
    /// `expiry` (Unix seconds), into `output`.
    ///
    /// - Parameters:
    ///   - host: the hub's `HostName`.
    ///   - deviceID: the device id.
    ///   - moduleID: the module id, or nil for a device identity.
    ///   - key: the Base64 `SharedAccessKey`.
    ///   - keyName: `SharedAccessKeyName`, sent as `skn`, or nil.
    ///   - expiry: Unix seconds.
    ///   - crypto: computes the HMAC-SHA256 (`MbedTLSCrypto()` by default in the examples).
    ///   - output: where the token goes.
    /// - Returns: the token's length.
    /// - Throws: `SASTokenError` (empty identity, bad or too long key, buffer too small, crypto failure).
    public static func write<C: CryptoProvider>(host: UnsafeRawBufferPointer, deviceID: UnsafeRawBufferPointer,
                                                moduleID: UnsafeRawBufferPointer? = nil, key: UnsafeRawBufferPointer,
                                                keyName: UnsafeRawBufferPointer? = nil, expiry: UInt64, crypto: C,
                                                into output: UnsafeMutableRawBufferPointer) throws(SASTokenError) -> Int {
        guard host.count > 0, deviceID.count > 0, moduleID.map({ $0.count > 0 }) ?? true else { throw .emptyIdentity }
        return try write(resource: { sink in writeResource(host: host, deviceID: deviceID, moduleID: moduleID, into: &sink) },
                         key: key, keyName: keyName, expiry: expiry, crypto: crypto, into: output)
    }

    /// Writes `SharedAccessSignature sr={resource}&sig=…&se={expiry}[&skn={keyName}]`, where
    /// `resource` appends the already percent-encoded `sr` value: the construction shared by
    /// IoT Hub tokens and Device Provisioning Service tokens (which differ only in `sr` and `skn`).
    package static func write<C: CryptoProvider>(resource: (inout ByteSink) -> Void, key: UnsafeRawBufferPointer,
                                                 keyName: UnsafeRawBufferPointer?, expiry: UInt64, crypto: C,
                                                 into output: UnsafeMutableRawBufferPointer) throws(SASTokenError) -> Int {
        guard key.count <= maxKeyTextLength else { throw .keyTooLong }

        var sink = ByteSink(output)
        sink.literal("SharedAccessSignature sr=")
        let resourceStart = sink.count
        resource(&sink)
        let resourceEnd = sink.count
        // The string-to-sign is built in place right after `sr`, then overwritten by `&sig=`;
        // the finished token is longer, so this needs no extra room.
        sink.literal("\n") // an out-of-line append: an inlined `byte` is larger than the call
        sink.decimal(expiry)
        // A lower bound of the token: the `\n` becomes `&sig=` (+4), the signature takes at least
        // 46 bytes (44 Base64 characters, the one `=` escaped as `%3D`), `&se=` precedes the
        // expiry (+4): sink.count - 1 + 5 + 46 + 4.
        guard !sink.overflowed else { throw .bufferTooSmall(needed: sink.count + 54) }
        let toSign = UnsafeRawBufferPointer(rebasing: output[resourceStart..<sink.count])

        var signature = InlineArray<48, UInt8>(repeating: 0) // Base64 of 32 bytes = 44 chars
        var signatureSpan = signature.mutableSpan
        let signatureLength = try signatureSpan.withUnsafeMutableBytes { (out) throws(SASTokenError) -> Int in
            try sign(toSign, key: key, crypto: crypto, into: out)
        }
        sink.truncate(to: resourceEnd)
        sink.literal("&sig=")
        signature.span.withUnsafeBytes { sig in
            sink.percentEncoded(UnsafeRawBufferPointer(rebasing: sig[0..<signatureLength]))
        }
        sink.literal("&se=")
        sink.decimal(expiry)
        if let keyName {
            sink.literal("&skn=")
            sink.bytes(keyName)
        }
        guard !sink.overflowed else { throw .bufferTooSmall(needed: sink.count) }
        return sink.count
    }

    /// Writes a token for the identity and key of a parsed connection string (`skn` from
    /// `SharedAccessKeyName` when present).
    ///
    /// - Parameters:
    ///   - connection: the parsed connection string.
    ///   - expiry: Unix seconds.
    ///   - crypto: computes the HMAC-SHA256.
    ///   - output: where the token goes.
    /// - Returns: the token's length.
    /// - Throws: `invalidKey` for an X.509 connection string, else as `write(host:…)`.
    public static func write<C: CryptoProvider>(for connection: ConnectionString, expiry: UInt64, crypto: C,
                                                into output: UnsafeMutableRawBufferPointer) throws(SASTokenError) -> Int {
        guard let key = connection.sharedAccessKey else { throw .invalidKey }
        return try write(host: connection.hostName, deviceID: connection.deviceID, moduleID: connection.moduleID,
                         key: key, keyName: connection.sharedAccessKeyName, expiry: expiry, crypto: crypto, into: output)
    }

    /// Writes only the encoded resource URI (`sr` value) into `output`; returns its length.
    ///
    /// - Parameters:
    ///   - host: the hub's host name.
    ///   - deviceID: the device id.
    ///   - moduleID: the module id, for a module identity.
    ///   - output: where the resource URI goes.
    /// - Returns: its length.
    /// - Throws: `SASTokenError.bufferTooSmall` when `output` is too short.
    public static func writeResource(host: UnsafeRawBufferPointer, deviceID: UnsafeRawBufferPointer,
                                     moduleID: UnsafeRawBufferPointer? = nil,
                                     into output: UnsafeMutableRawBufferPointer) throws(SASTokenError) -> Int {
        var sink = ByteSink(output)
        writeResource(host: host, deviceID: deviceID, moduleID: moduleID, into: &sink)
        guard !sink.overflowed else { throw .bufferTooSmall(needed: sink.count) }
        return sink.count
    }

    static func writeResource(host: UnsafeRawBufferPointer, deviceID: UnsafeRawBufferPointer,
                              moduleID: UnsafeRawBufferPointer?, into sink: inout ByteSink) {
        sink.percentEncoded(host)
        sink.literal("%2Fdevices%2F")
        sink.percentEncoded(deviceID)
        if let moduleID {
            sink.literal("%2Fmodules%2F")
            sink.percentEncoded(moduleID)
        }
    }

    /// Length of a Base64 signature (a 32-byte HMAC-SHA256 tag).
    package static let signatureLength = 44

    /// base64(HMAC-SHA256(base64decode(`key`), `message`)) into `output` (44 bytes); returns its
    /// length. The decoded key lives in stack scratch, wiped on every path. Also the enrollment
    /// group key derivation of the Device Provisioning Service (`message` = registration id).
    package static func sign<C: CryptoProvider>(_ message: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer, crypto: C,
                                                into output: UnsafeMutableRawBufferPointer) throws(SASTokenError) -> Int {
        guard key.count <= maxKeyTextLength else { throw .keyTooLong }
        guard output.count >= signatureLength else { throw .bufferTooSmall(needed: signatureLength) }
        var mac = InlineArray<32, UInt8>(repeating: 0)
        defer {
            var macSpan = mac.mutableSpan
            macSpan.withUnsafeMutableBytes { zeroize($0) }
        }
        // Typed throws straight out of the scratch closure (no `Result` to build and match).
        try withUnsafeTemporaryAllocation(byteCount: maxKeyScratch, alignment: 1) { (scratch) throws(SASTokenError) in
            defer { zeroize(scratch) } // the decoded key, on every path
            let keyLength: Int
            do throws(Base64Error) {
                keyLength = try Base64.decode(key, into: scratch)
            } catch .invalid {
                throw .invalidKey
            } catch {
                throw .keyTooLong
            }
            guard keyLength > 0 else { throw .invalidKey }
            guard keyLength <= maxKeyLength else { throw .keyTooLong }
            do throws(CryptoError) {
                var macSpan = mac.mutableSpan
                try macSpan.withUnsafeMutableBytes { (macBytes) throws(CryptoError) in
                    try crypto.hmacSHA256(key: UnsafeRawBufferPointer(rebasing: scratch[0..<keyLength]),
                                          message: message, into: macBytes)
                }
            } catch {
                throw .crypto(error)
            }
        }
        var sink = ByteSink(output) // 44 bytes or more, checked above
        mac.span.withUnsafeBytes { sink.base64($0) }
        return sink.count
    }
}
