import TinyHTTP

/// What to do with a received cloud-to-device message.
public enum C2DDisposition: UInt8, Sendable {
    /// Done: delete it from the queue (`DELETE …/deviceBound/{lock}`).
    case complete
    /// Dead-letter it (`DELETE …/deviceBound/{lock}?…&reject`).
    case reject
    /// Put it back for another delivery (`POST …/deviceBound/{lock}/abandon`); counts toward maxDeliveryCount.
    case abandon
}

/// The lock token of a received C2D message (its `ETag` without quotes), copied out of the
/// response so it stays valid after later requests. The hub holds the lock for one minute.
public struct C2DLockToken {
    /// Longest token kept (IoT Hub uses GUIDs, 36 bytes).
    public static let capacity = 96

    private var storage = InlineArray<96, UInt8>(repeating: 0)
    /// Token length in bytes.
    public private(set) var count = 0

    /// Copies `bytes` (an unquoted ETag). Throws `invalidLockToken` when empty, longer than
    /// `capacity`, or not a printable-ASCII header value.
    public init(_ bytes: UnsafeRawBufferPointer) throws(HubError) {
        guard bytes.count > 0, bytes.count <= Self.capacity, HeaderSafety.isSafeValue(bytes) else { throw .invalidLockToken }
        for byte in bytes where byte == 0x22 || byte == 0x20 || byte == 0x09 { throw .invalidLockToken }
        for i in 0..<bytes.count { storage[i] = bytes[i] }
        count = bytes.count
    }

    /// Runs `body` with the token bytes.
    public func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let n = count
        return try storage.span.withUnsafeBytes { (all) throws(E) -> R in
            try body(UnsafeRawBufferPointer(rebasing: all[0..<n]))
        }
    }
}

/// A cloud-to-device message received over HTTPS. Payload and headers point into the
/// client's buffers and stay valid until its next request; the lock token is a copy.
/// Settle it with `complete`, `reject` or `abandon` (within the one-minute lock).
public struct HTTPSCloudToDeviceMessage: HubMessageProperties {
    /// Reading headers cannot fail.
    public typealias ReadError = Never

    /// Message body.
    public var payload: UnsafeRawBufferPointer
    /// The lock token (`ETag` without quotes).
    public var lockToken: C2DLockToken
    /// All response headers, for anything not covered below.
    public var headers: HTTPHeaders

    /// The `iothub-app-` prefix of application-property headers.
    static let appPrefix: StaticString = "iothub-app-"

    /// The header for `property` (e.g. `iothub-messageid`, `ContentType`), or nil.
    public func systemProperty(_ property: HubSystemProperty, scratch: UnsafeMutableRawBufferPointer) -> UnsafeRawBufferPointer? {
        headers.value(property.httpHeaderName)
    }

    /// The value of header `iothub-app-{name}`, or nil. Header names are compared ignoring
    /// ASCII case (HTTP field names are case-insensitive).
    public func applicationProperty(named name: UnsafeRawBufferPointer, scratch: UnsafeMutableRawBufferPointer) -> UnsafeRawBufferPointer? {
        let p = Self.appPrefix.utf8CodeUnitCount
        for header in headers where header.nameHasPrefix(Self.appPrefix) && header.name.count == p + name.count {
            if Self.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: header.name[p...]), name) { return header.value }
        }
        return nil
    }

    /// Calls `body(name, value)` for each `iothub-app-*` header, name without the prefix.
    public func forEachApplicationProperty(scratch: UnsafeMutableRawBufferPointer,
                                           _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
        let p = Self.appPrefix.utf8CodeUnitCount
        for header in headers where header.nameHasPrefix(Self.appPrefix) && header.name.count > p {
            body(UnsafeRawBufferPointer(rebasing: header.name[p...]), header.value)
        }
    }

    static func equalsIgnoringCase(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        var i = 0
        while i < a.count {
            let x = a[i] &- 0x41 < 26 ? a[i] | 0x20 : a[i]
            let y = b[i] &- 0x41 < 26 ? b[i] | 0x20 : b[i]
            guard x == y else { return false }
            i += 1
        }
        return true
    }
}
