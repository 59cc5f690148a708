import TinyHub
import TinyPlatform

/// The properties every message of a run carries, from the command line: application
/// properties given as `k=v` texts (split at the first `=`) and an optional content type, copied
/// once at start-up into memory this object owns, as the `MessageProperty` list and byte view
/// the hub clients take.
public final class PropertyStorage {
    private let texts: OwnedText
    private let contentTypeText: OwnedText?
    private let pairCount: Int
    private let properties: UnsafeMutableBufferPointer<MessageProperty>

    /// Parses each `k=v`; exits with a usage error naming `flag` when one has no `=` or an empty name.
    ///
    /// - Parameters:
    ///   - pairs: the `k=v` texts, in order.
    ///   - contentType: the content type every message declares, or nil.
    ///   - flag: the option the pairs came from, for the usage error.
    ///   - usage: the program's usage line.
    public init(_ pairs: [String], contentType: String? = nil, flag: StaticString, usage: StaticString) {
        texts = OwnedText(pairs)
        pairCount = pairs.count
        contentTypeText = contentType.map { OwnedText([$0]) }
        self.contentType = contentTypeText?[0]
        properties = .allocate(capacity: max(1, pairs.count))
        for index in 0..<pairs.count {
            let bytes = texts[index]
            guard let equals = bytes.firstIndex(of: 0x3D), equals > 0 else {
                ExampleArguments.fail("bad value (not k=v) for ", flag, usage)
            }
            properties[index] = MessageProperty(name: UnsafeRawBufferPointer(rebasing: bytes[0..<equals]),
                                                value: UnsafeRawBufferPointer(rebasing: bytes[(equals + 1)...]))
        }
    }

    deinit { properties.deallocate() }

    /// The properties, in the order given.
    public var list: UnsafeBufferPointer<MessageProperty> {
        UnsafeBufferPointer(rebasing: UnsafeBufferPointer(properties)[0..<pairCount])
    }

    /// The content type's bytes, or nil when none was given.
    public let contentType: UnsafeRawBufferPointer?
}
