import TinyHub

/// A copy of a string's UTF-8 bytes in memory that never moves (allocated once at start-up),
/// so raw pointers into it stay valid for the whole program.
public final class StableBytes {
    /// The bytes.
    public let bytes: UnsafeRawBufferPointer

    /// Copies `text`.
    public init(_ text: String) {
        var copy = text
        let storage = copy.withUTF8 { source -> UnsafeMutableRawBufferPointer in
            let target = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, source.count), alignment: 1)
            target.copyMemory(from: UnsafeRawBufferPointer(source))
            return UnsafeMutableRawBufferPointer(rebasing: target[0..<source.count])
        }
        bytes = UnsafeRawBufferPointer(storage)
    }

    deinit { UnsafeMutableRawBufferPointer(mutating: bytes).deallocate() }
}

/// Application properties given as `k=v` texts (split at the first `=`), kept in stable
/// memory as the `MessageProperty` list the hub client takes.
public final class PropertyStorage {
    private let texts: [StableBytes]
    private let properties: UnsafeMutableBufferPointer<MessageProperty>

    /// Parses each `k=v`; exits with a usage error naming `flag` when one has no `=` or an empty name.
    public init(_ pairs: [String], flag: StaticString, usage: StaticString) {
        texts = pairs.map { StableBytes($0) }
        properties = .allocate(capacity: max(1, texts.count))
        for (index, text) in texts.enumerated() {
            let bytes = text.bytes
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
        UnsafeBufferPointer(rebasing: UnsafeBufferPointer(properties)[0..<texts.count])
    }
}
