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
        var fields = Fields(repeating: absent)
        var unknownCount = 0
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
            guard let slot = keySlot(name) else {
                unknownCount += 1
                if fields[unknownSlot].baseAddress == nil { fields[unknownSlot] = name }
                continue
            }
            guard let key = ConnectionStringKey(rawValue: UInt8(slot)) else { throw .sharedAccessSignatureNotSupported }
            let value = Bytes.slice(text, (equals + 1)..<end)
            guard fields[slot].baseAddress == nil else { throw .duplicateKey(key) }
            guard value.count > 0 || key == .x509 else { throw .emptyValue(key) } // x509 is checked below
            fields[slot] = value
        }
        guard sawSegment else { throw .empty }
        let x509 = fields[Int(ConnectionStringKey.x509.rawValue)]
        let parsed = ConnectionString(fields, usesX509: x509.baseAddress != nil, unknownKeyCount: unknownCount)
        guard parsed.hostName.baseAddress != nil else { throw .missingHostName } // an empty one was refused above
        guard parsed.deviceID.baseAddress != nil else { throw .missingDeviceID }
        if parsed.usesX509 {
            guard Bytes.equal(x509, "true") else { throw .invalidX509Value }
            guard parsed.sharedAccessKey == nil else { throw .mixedAuthentication }
        } else {
            guard let key = parsed.sharedAccessKey else { throw .missingCredentials }
            try validateKey(key)
        }
        return parsed
    }

    /// The same fields over a copy of the text: each slice of `old` becomes the slice at the
    /// same offset of `new` (same length as `old`).
    func moved(from old: UnsafeRawBufferPointer, to new: UnsafeRawBufferPointer) -> ConnectionString {
        var fields = self.fields
        var slot = 0
        while slot < fields.count {
            if let start = fields[slot].baseAddress, let oldBase = old.baseAddress {
                let offset = start - oldBase
                fields[slot] = UnsafeRawBufferPointer(rebasing: new[offset..<(offset + fields[slot].count)])
            }
            slot += 1
        }
        return ConnectionString(fields, usesX509: usesX509, unknownKeyCount: unknownKeyCount)
    }

    /// The slices of a connection string by `ConnectionStringKey.rawValue`, then the first unknown
    /// key (`unknownSlot`); an absent one has no base address (a slice of the text always has one,
    /// also when it is empty). One table, so parsing and moving handle every field with one code path.
    typealias Fields = InlineArray<8, UnsafeRawBufferPointer>

    /// The slot of `firstUnknownKey` in `Fields`.
    private static var unknownSlot: Int { 7 }

    /// The slice of a field that is not there.
    private static var absent: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }

    /// The connection string of `fields` (the `x509` slot is not kept: `usesX509` says whether it was there).
    private init(_ fields: borrowing Fields, usesX509: Bool, unknownKeyCount: Int) {
        func field(_ key: ConnectionStringKey) -> UnsafeRawBufferPointer? {
            let slice = fields[Int(key.rawValue)]
            return slice.baseAddress == nil ? nil : slice
        }
        hostName = fields[Int(ConnectionStringKey.hostName.rawValue)]
        deviceID = fields[Int(ConnectionStringKey.deviceID.rawValue)]
        moduleID = field(.moduleID)
        sharedAccessKey = field(.sharedAccessKey)
        sharedAccessKeyName = field(.sharedAccessKeyName)
        gatewayHostName = field(.gatewayHostName)
        self.usesX509 = usesX509
        self.unknownKeyCount = unknownKeyCount
        let unknown = fields[Self.unknownSlot]
        firstUnknownKey = unknown.baseAddress == nil ? nil : unknown
    }

    /// This connection string's slices as `Fields`.
    private var fields: Fields {
        var fields = Fields(repeating: Self.absent)
        fields[Int(ConnectionStringKey.hostName.rawValue)] = hostName
        fields[Int(ConnectionStringKey.deviceID.rawValue)] = deviceID
        fields[Int(ConnectionStringKey.moduleID.rawValue)] = moduleID ?? Self.absent
        fields[Int(ConnectionStringKey.sharedAccessKey.rawValue)] = sharedAccessKey ?? Self.absent
        fields[Int(ConnectionStringKey.sharedAccessKeyName.rawValue)] = sharedAccessKeyName ?? Self.absent
        fields[Int(ConnectionStringKey.gatewayHostName.rawValue)] = gatewayHostName ?? Self.absent
        fields[Self.unknownSlot] = firstUnknownKey ?? Self.absent
        return fields
    }

    /// The `Fields` slot of the key `name` (`ConnectionStringKey.rawValue`), 7 for
    /// `SharedAccessSignature`, nil for a key TinyHub does not know. Keys are case-sensitive.
    private static func keySlot(_ name: UnsafeRawBufferPointer) -> Int? {
        // The names in slot order, each followed by ';'.
        let names = Bytes.view("HostName;DeviceId;ModuleId;SharedAccessKey;SharedAccessKeyName;x509;GatewayHostName;SharedAccessSignature;")
        var start = 0
        var slot = 0
        while let end = Bytes.index(of: 0x3B, in: names, from: start) {
            if Bytes.equal(name, Bytes.slice(names, start..<end)) { return slot }
            start = end + 1
            slot += 1
        }
        return nil
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
