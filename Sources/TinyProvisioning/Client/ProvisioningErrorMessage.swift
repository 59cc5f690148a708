import TinyMQTT
import TinyPlatform
/// The `errorMessage` DPS gave with a refusal, copied into fixed storage inside the error
/// (at most `capacity` bytes of UTF-8; a longer message is cut at a character boundary).
public struct ProvisioningErrorMessage: Sendable {
    /// Largest message kept, in bytes.
    public static let capacity = 160

    private var storage = InlineArray<160, UInt8>(repeating: 0)
    /// Bytes kept.
    public private(set) var count = 0
    /// Whether the message was longer than `capacity` and was cut.
    public private(set) var truncated = false

    /// An empty message (DPS gave none).
    public init() {}

    /// A message with the first `capacity` bytes of `bytes` (cut back to a UTF-8 boundary).
    ///
    /// - Parameter bytes: the message text, UTF-8.
    public init(_ bytes: UnsafeRawBufferPointer) {
        var length = min(bytes.count, Self.capacity)
        if length < bytes.count {
            truncated = true
            // Do not end inside a multi-byte character: drop continuation bytes and their lead.
            while length > 0, bytes[length] & 0xC0 == 0x80 { length -= 1 }
        }
        for i in 0..<length { storage[i] = bytes[i] }
        count = length
    }

    /// Calls `body` with the message bytes (valid only inside `body`).
    ///
    /// - Parameter body: reads the bytes.
    /// - Returns: what `body` returns.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        storage.span.withUnsafeBytes { all in body(UnsafeRawBufferPointer(rebasing: all[0..<count])) }
    }

    /// The message as a `String` (allocates; for printing).
    public var text: String {
        withBytes { String(decoding: $0, as: UTF8.self) }
    }
}
