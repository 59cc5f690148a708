import TinyBytes
import TinyPlatform

/// The keys of an IoT Hub device connection string that TinyHub understands.
public enum ConnectionStringKey: UInt8, Equatable, Sendable {
    /// `HostName`: FQDN of the hub.
    case hostName
    /// `DeviceId`: the device identity.
    case deviceID
    /// `ModuleId`: the module identity (optional).
    case moduleID
    /// `SharedAccessKey`: base64 symmetric key.
    case sharedAccessKey
    /// `SharedAccessKeyName`: policy name, sent as `skn` in SAS tokens.
    case sharedAccessKeyName
    /// `x509`: must be exactly `true`.
    case x509
    /// `GatewayHostName`: host to open the TLS connection to (IoT Edge).
    case gatewayHostName
}

/// A parsed IoT Hub device or module connection string
/// (`HostName=…;DeviceId=…;SharedAccessKey=…`).
///
/// Every field is a slice of the caller's bytes: nothing is copied, and the slices are valid
/// exactly as long as the memory passed to `parse` stays alive and unchanged.
///
/// Parsing rules (following azure-iot-sdk-c's `iothub_client_core_ll.c:1457-1618` and the
/// Python device SDK's `connection_string.py`): segments are split at
/// `;`, key and value at the first `=` (values may contain `=`), keys are case-sensitive,
/// empty segments are skipped, duplicates and mixed authentication are rejected, `x509`
/// must be exactly `true`, unknown keys are ignored but counted. No whitespace trimming.
/// `HostName` need not contain a dot (`localhost`, an IoT Edge gateway name).
///
/// ```swift
/// let text: StaticString = "HostName=myhub.azure-devices.net;DeviceId=dev-1;SharedAccessKey=AAECAwQ="
/// let parsed = try ConnectionString.parse(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
/// // parsed.hostName, parsed.deviceID and parsed.sharedAccessKey are views into `text`
/// ```
public struct ConnectionString {
    /// Longest accepted connection string in bytes.
    public static let maxLength = 4096

    /// `HostName` (always present, non-empty; a dot is not required: `localhost`, a gateway name).
    public var hostName: UnsafeRawBufferPointer
    /// `DeviceId` (always present, non-empty).
    public var deviceID: UnsafeRawBufferPointer
    /// `ModuleId`, or nil for a device identity.
    public var moduleID: UnsafeRawBufferPointer?
    /// `SharedAccessKey` as Base64 text (validated), or nil with X.509.
    public var sharedAccessKey: UnsafeRawBufferPointer?
    /// `SharedAccessKeyName`, or nil.
    public var sharedAccessKeyName: UnsafeRawBufferPointer?
    /// `GatewayHostName`, or nil.
    public var gatewayHostName: UnsafeRawBufferPointer?
    /// Whether `x509=true` was given (then `sharedAccessKey` is nil).
    public var usesX509: Bool
    /// How many segments had a key TinyHub does not know (the caller may warn).
    public var unknownKeyCount: Int
    /// The first unknown key, if any.
    public var firstUnknownKey: UnsafeRawBufferPointer?

    /// The host to open the TLS connection to: `GatewayHostName` if given, else `HostName`.
    /// (azure-iot-sdk-c connects to the gateway but keeps `HostName` in the username and SAS `sr`.)
    public var connectHostName: UnsafeRawBufferPointer { gatewayHostName ?? hostName }

    /// Parses `text`. Throws a `ConnectionStringError` naming the first problem found.
    ///
    /// - Parameter text: the connection string's bytes; the result's fields are views into them.
    /// - Returns: the parsed fields.
    /// - Throws: `ConnectionStringError` naming the field and its problem.
    public static func parse(_ text: UnsafeRawBufferPointer) throws(ConnectionStringError) -> ConnectionString {
        guard text.count <= maxLength else { throw .tooLong(maxLength: maxLength) }
        var host: UnsafeRawBufferPointer?
        var device: UnsafeRawBufferPointer?
        var module: UnsafeRawBufferPointer?
        var key: UnsafeRawBufferPointer?
        var keyName: UnsafeRawBufferPointer?
        var gateway: UnsafeRawBufferPointer?
        var x509: UnsafeRawBufferPointer?
        var unknownCount = 0
        var firstUnknown: UnsafeRawBufferPointer?
        var sawSegment = false

        var start = 0
        while start < text.count {
            let end = Bytes.index(of: 0x3B, in: text, from: start) ?? text.count // ';'
            defer { start = end + 1 }
            if end == start { continue } // empty segment, e.g. a trailing ';'
            sawSegment = true
            guard let found = Bytes.index(of: 0x3D, in: Bytes.slice(text, start..<end)) else { // '=' in this segment
                throw .missingEquals(offset: start)
            }
            let equals = start + found
            guard equals > start else { throw .emptyKey(offset: start) }
            let name = Bytes.slice(text, start..<equals)
            let value = Bytes.slice(text, (equals + 1)..<end)
            let slot: ConnectionStringKey
            if Bytes.equal(name, "HostName") { slot = .hostName }
            else if Bytes.equal(name, "DeviceId") { slot = .deviceID }
            else if Bytes.equal(name, "ModuleId") { slot = .moduleID }
            else if Bytes.equal(name, "SharedAccessKey") { slot = .sharedAccessKey }
            else if Bytes.equal(name, "SharedAccessKeyName") { slot = .sharedAccessKeyName }
            else if Bytes.equal(name, "x509") { slot = .x509 }
            else if Bytes.equal(name, "GatewayHostName") { slot = .gatewayHostName }
            else if Bytes.equal(name, "SharedAccessSignature") { throw .sharedAccessSignatureNotSupported }
            else {
                unknownCount += 1
                if firstUnknown == nil { firstUnknown = name }
                continue
            }
            switch slot {
            case .hostName: try store(value, in: &host, slot)
            case .deviceID: try store(value, in: &device, slot)
            case .moduleID: try store(value, in: &module, slot)
            case .sharedAccessKey: try store(value, in: &key, slot)
            case .sharedAccessKeyName: try store(value, in: &keyName, slot)
            case .gatewayHostName: try store(value, in: &gateway, slot)
            case .x509:
                guard x509 == nil else { throw .duplicateKey(.x509) }
                x509 = value
            }
        }
        guard sawSegment else { throw .empty }
        guard let host else { throw .missingHostName } // an empty one was refused by `store`
        guard let device else { throw .missingDeviceID }
        if let x509 {
            guard Bytes.equal(x509, "true") else { throw .invalidX509Value }
            guard key == nil else { throw .mixedAuthentication }
        } else {
            guard let key else { throw .missingCredentials }
            try validateKey(key)
        }
        return ConnectionString(hostName: host, deviceID: device, moduleID: module, sharedAccessKey: key,
                                sharedAccessKeyName: keyName, gatewayHostName: gateway, usesX509: x509 != nil,
                                unknownKeyCount: unknownCount, firstUnknownKey: firstUnknown)
    }

    /// The same fields over a copy of the text: each slice of `old` becomes the slice at the
    /// same offset of `new` (same length as `old`).
    func moved(from old: UnsafeRawBufferPointer, to new: UnsafeRawBufferPointer) -> ConnectionString {
        func move(_ slice: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
            guard let start = slice.baseAddress, let oldBase = old.baseAddress else { return slice }
            return UnsafeRawBufferPointer(rebasing: new[(start - oldBase)..<(start - oldBase + slice.count)])
        }
        return ConnectionString(hostName: move(hostName), deviceID: move(deviceID), moduleID: moduleID.map(move),
                                sharedAccessKey: sharedAccessKey.map(move), sharedAccessKeyName: sharedAccessKeyName.map(move),
                                gatewayHostName: gatewayHostName.map(move), usesX509: usesX509, unknownKeyCount: unknownKeyCount,
                                firstUnknownKey: firstUnknownKey.map(move))
    }

    private static func store(_ value: UnsafeRawBufferPointer, in slot: inout UnsafeRawBufferPointer?,
                              _ key: ConnectionStringKey) throws(ConnectionStringError) {
        guard slot == nil else { throw .duplicateKey(key) }
        guard value.count > 0 else { throw .emptyValue(key) }
        slot = value
    }

    /// Decodes the key into stack scratch to prove it is Base64 of an acceptable length.
    private static func validateKey(_ key: UnsafeRawBufferPointer) throws(ConnectionStringError) {
        guard key.count <= SASToken.maxKeyTextLength else { throw .sharedAccessKeyTooLong }
        let result: Result<Int, Base64Error> = withUnsafeTemporaryAllocation(byteCount: SASToken.maxKeyScratch, alignment: 1) { scratch in
            defer { zeroize(scratch) } // the decoded key, on every path
            do throws(Base64Error) { return .success(try Base64.decode(key, into: scratch)) } catch { return .failure(error) }
        }
        switch result {
        case .success(let length):
            guard length > 0 else { throw .invalidSharedAccessKey }
            guard length <= SASToken.maxKeyLength else { throw .sharedAccessKeyTooLong }
        case .failure(.bufferTooSmall): throw .sharedAccessKeyTooLong
        case .failure: throw .invalidSharedAccessKey
        }
    }
}
