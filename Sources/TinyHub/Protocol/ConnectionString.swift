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

    /// The start of the text the fields are slices of (a parsed text is never empty).
    private var base: UnsafeRawPointer
    /// Where each field is in the text, by `ConnectionStringKey.rawValue`, then the first unknown key
    /// (`unknownSlot`). Offsets, not pointers: moving the fields to a copy of the text
    /// (`moved(to:)`) replaces `base` and nothing else.
    private var spans: Spans

    /// `HostName` (always present, non-empty; a dot is not required: `localhost`, a gateway name).
    public var hostName: UnsafeRawBufferPointer { slice(spans[Int(ConnectionStringKey.hostName.rawValue)]) }
    /// `DeviceId` (always present, non-empty).
    public var deviceID: UnsafeRawBufferPointer { slice(spans[Int(ConnectionStringKey.deviceID.rawValue)]) }
    /// `ModuleId`, or nil for a device identity.
    public var moduleID: UnsafeRawBufferPointer? { field(at: Int(ConnectionStringKey.moduleID.rawValue)) }
    /// `SharedAccessKey` as Base64 text (validated), or nil with X.509.
    public var sharedAccessKey: UnsafeRawBufferPointer? { field(at: Int(ConnectionStringKey.sharedAccessKey.rawValue)) }
    /// `SharedAccessKeyName`, or nil.
    public var sharedAccessKeyName: UnsafeRawBufferPointer? { field(at: Int(ConnectionStringKey.sharedAccessKeyName.rawValue)) }
    /// `GatewayHostName`, or nil.
    public var gatewayHostName: UnsafeRawBufferPointer? { field(at: Int(ConnectionStringKey.gatewayHostName.rawValue)) }
    /// Whether `x509=true` was given (then `sharedAccessKey` is nil).
    public let usesX509: Bool
    /// How many segments had a key TinyHub does not know (the caller may warn).
    public let unknownKeyCount: Int
    /// The first unknown key, if any.
    public var firstUnknownKey: UnsafeRawBufferPointer? { field(at: Self.unknownSlot) }

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
        var spans = Spans(repeating: FieldSpan.absent)
        var unknownCount = 0
        var sawSegment = false

        // Offsets and counts below are at most `maxLength` + 1: they wrap (`&+`) instead of checking.
        var start = 0
        while start < text.count {
            let end = Bytes.index(of: 0x3B, in: text, from: start) ?? text.count // ';'
            defer { start = end &+ 1 }
            if end == start { continue } // empty segment, e.g. a trailing ';'
            sawSegment = true
            guard let found = Bytes.index(of: 0x3D, in: Bytes.slice(text, start..<end)) else { // '=' in this segment
                throw .missingEquals(offset: start)
            }
            let equals = start &+ found
            guard equals > start else { throw .emptyKey(offset: start) }
            guard let slot = keySlot(Bytes.slice(text, start..<equals)) else {
                unknownCount &+= 1
                if spans[unknownSlot].isAbsent { spans[unknownSlot] = FieldSpan(start..<equals) }
                continue
            }
            guard let key = ConnectionStringKey(rawValue: UInt8(slot)) else { throw .sharedAccessSignatureNotSupported }
            guard spans[slot].isAbsent else { throw .duplicateKey(key) }
            guard end > equals &+ 1 || key == .x509 else { throw .emptyValue(key) } // x509 is checked below
            spans[slot] = FieldSpan((equals &+ 1)..<end)
        }
        // A text with a segment is not empty, so it has a base address.
        guard sawSegment, let base = text.baseAddress else { throw .empty }
        // The host name and device id, present, are not empty: an empty value was refused above.
        guard !spans[Int(ConnectionStringKey.hostName.rawValue)].isAbsent else { throw .missingHostName }
        guard !spans[Int(ConnectionStringKey.deviceID.rawValue)].isAbsent else { throw .missingDeviceID }
        let x509 = spans[Int(ConnectionStringKey.x509.rawValue)]
        let parsed = ConnectionString(base: base, spans: spans, usesX509: !x509.isAbsent, unknownKeyCount: unknownCount)
        if parsed.usesX509 {
            guard Bytes.equal(parsed.slice(x509), "true") else { throw .invalidX509Value }
            guard parsed.sharedAccessKey == nil else { throw .mixedAuthentication }
        } else {
            guard let key = parsed.sharedAccessKey else { throw .missingCredentials }
            try validateKey(key)
        }
        return parsed
    }

    /// The same fields over `new`, a copy of the text: each field is the slice of `new` at its
    /// offset in the text.
    func moved(to new: UnsafeRawBufferPointer) -> ConnectionString {
        var moved = self
        if let start = new.baseAddress { moved.base = start } // a copy of a parsed text is not empty
        return moved
    }

    /// Where a field is in the text: offset and length (`maxLength` fits 16 bits).
    struct FieldSpan {
        var start: UInt16
        var count: UInt16

        /// The span of a field that is not there.
        static var absent: FieldSpan { FieldSpan(start: .max, count: 0) }

        var isAbsent: Bool { start == .max }

        init(start: UInt16, count: UInt16) {
            self.start = start
            self.count = count
        }

        /// The span of `range` (within `maxLength`, checked by `parse` first).
        init(_ range: Range<Int>) {
            start = UInt16(truncatingIfNeeded: range.lowerBound)
            count = UInt16(truncatingIfNeeded: range.count)
        }
    }

    /// The spans of a connection string by `ConnectionStringKey.rawValue`, then the first unknown
    /// key (`unknownSlot`). One table, so parsing handles every field with one code path.
    typealias Spans = InlineArray<8, FieldSpan>

    /// The slot of `firstUnknownKey` in `Spans`.
    private static var unknownSlot: Int { 7 }

    private init(base: UnsafeRawPointer, spans: Spans, usesX509: Bool, unknownKeyCount: Int) {
        self.base = base
        self.spans = spans
        self.usesX509 = usesX509
        self.unknownKeyCount = unknownKeyCount
    }

    /// The bytes of `span` (present) in the text.
    private func slice(_ span: FieldSpan) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + Int(span.start), count: Int(span.count))
    }

    /// The field in `Spans` slot `slot`, or nil when the connection string has none.
    private func field(at slot: Int) -> UnsafeRawBufferPointer? {
        let span = spans[slot]
        return span.isAbsent ? nil : slice(span)
    }

    /// The `Spans` slot of the key `name` (`ConnectionStringKey.rawValue`), 7 for
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
