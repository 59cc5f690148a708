import TinyBytes
import TinyHub

/// The MQTT identity a device presents to DPS: client id = registration id, user name
/// `{idScope}/registrations/{registrationId}/api-version=2019-03-31&ClientVersion={urlenc}`.
public enum ProvisioningIdentity {
    /// The DPS service API version this client speaks.
    public static let apiVersion: StaticString = "2019-03-31"
    /// Longest accepted ID scope or registration id (DPS allows 128 characters).
    public static let maxIDLength = 128
    /// Default DPS endpoint.
    public static let defaultHost: StaticString = "global.azure-devices-provisioning.net"

    /// Throws `invalidIdentity` unless `id` is 1...`maxIDLength` bytes of `A-Z a-z 0-9 - . _ ~`
    /// (DPS registration ids are lowercase alphanumerics with `- . _ :`; `:` is refused here
    /// because it would need escaping in the resource URI and appears raw in topics).
    ///
    /// - Parameter id: an ID scope or registration id.
    /// - Throws: `ProvisioningProtocolError`: `invalidIdentity`.
    public static func validate(_ id: UnsafeRawBufferPointer) throws(ProvisioningProtocolError) {
        guard id.count > 0, id.count <= maxIDLength else { throw .invalidIdentity }
        for byte in id where !PercentEncoding.isUnreserved(byte) { throw .invalidIdentity }
    }

    /// Throws `invalidIdentity` unless `id` is 1...`maxIDLength` characters of `A-Z a-z 0-9 - . _ ~`,
    /// as `validate(_:)` with bytes.
    ///
    /// ```swift
    /// try ProvisioningIdentity.validate("my-device-1")
    /// ```
    ///
    /// - Parameter id: an ID scope or registration id.
    /// - Throws: `ProvisioningProtocolError.invalidIdentity`.
    public static func validate(_ id: String) throws(ProvisioningProtocolError) {
        var text = id
        try text.withUTF8 { bytes in
            Result { () throws(ProvisioningProtocolError) in try validate(UnsafeRawBufferPointer(bytes)) }
        }.get()
    }

    /// Writes the MQTT user name; `clientVersion` (e.g. `TinyHub/0.1`) is percent-encoded.
    /// Returns its length.
    ///
    /// - Parameters:
    ///   - idScope: the DPS ID scope.
    ///   - registrationID: the device's registration id.
    ///   - clientVersion: the SDK's name and version.
    ///   - output: where the user name goes.
    /// - Returns: its length.
    /// - Throws: `ProvisioningProtocolError`: `invalidIdentity`, `bufferTooSmall`.
    public static func writeUserName(idScope: UnsafeRawBufferPointer, registrationID: UnsafeRawBufferPointer,
                                     clientVersion: UnsafeRawBufferPointer,
                                     into output: UnsafeMutableRawBufferPointer) throws(ProvisioningProtocolError) -> Int {
        try validate(idScope)
        try validate(registrationID)
        var sink = ByteSink(output)
        sink.bytes(idScope)
        sink.literal("/registrations/")
        sink.bytes(registrationID)
        sink.literal("/api-version=")
        sink.literal(apiVersion)
        sink.literal("&ClientVersion=")
        sink.percentEncoded(clientVersion)
        guard !sink.overflowed else { throw .bufferTooSmall(needed: sink.count) }
        return sink.count
    }

    /// Writes the resource URI `{idScope}/registrations/{registrationId}`, percent-encoded
    /// (the SAS `sr` value). Returns its length.
    ///
    /// - Parameters:
    ///   - idScope: the DPS ID scope.
    ///   - registrationID: the device's registration id.
    ///   - output: where the resource URI goes.
    /// - Returns: its length.
    /// - Throws: `ProvisioningProtocolError`: `invalidIdentity`, `bufferTooSmall`.
    public static func writeResource(idScope: UnsafeRawBufferPointer, registrationID: UnsafeRawBufferPointer,
                                     into output: UnsafeMutableRawBufferPointer) throws(ProvisioningProtocolError) -> Int {
        try validate(idScope)
        try validate(registrationID)
        var sink = ByteSink(output)
        writeResource(idScope: idScope, registrationID: registrationID, into: &sink)
        guard !sink.overflowed else { throw .bufferTooSmall(needed: sink.count) }
        return sink.count
    }

    static func writeResource(idScope: UnsafeRawBufferPointer, registrationID: UnsafeRawBufferPointer,
                              into sink: inout ByteSink) {
        sink.percentEncoded(idScope)
        sink.literal("%2Fregistrations%2F")
        sink.percentEncoded(registrationID)
    }
}
