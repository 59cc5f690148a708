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
    ///
    /// - Parameter bytes: the ETag value without quotes.
    /// - Throws: `HubError.invalidLockToken`.
    public init(_ bytes: UnsafeRawBufferPointer) throws(HubError) {
        guard bytes.count > 0, bytes.count <= Self.capacity, HeaderSafety.isSafeValue(bytes) else { throw .invalidLockToken }
        for byte in bytes where byte == 0x22 || byte == 0x20 || byte == 0x09 { throw .invalidLockToken }
        for i in 0..<bytes.count { storage[i] = bytes[i] }
        count = bytes.count
    }

    /// Runs `body` with the token bytes.
    ///
    /// - Parameter body: receives the bytes, valid only during the call.
    /// - Returns: what `body` returns.
    /// - Throws: what `body` throws.
    public func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let n = count
        return try storage.span.withUnsafeBytes { (all) throws(E) -> R in
            try body(UnsafeRawBufferPointer(rebasing: all[0..<n]))
        }
    }
}
