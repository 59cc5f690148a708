/// One response header. Both slices point into the caller's header buffer and stay valid
/// until the parser is reset or the buffer reused.
public struct HTTPHeader {
    /// The name as received (case preserved).
    public var name: UnsafeRawBufferPointer
    /// The value without surrounding whitespace; folded lines are joined with one SP.
    public var value: UnsafeRawBufferPointer

    /// True if the name equals `other`, ignoring ASCII case.
    ///
    /// - Parameter other: the name to compare with.
    public func nameEquals(_ other: StaticString) -> Bool {
        other.withBytes { ASCII.equalsIgnoringCase(name, $0) }
    }

    /// True if the name equals `other`, ignoring ASCII case.
    ///
    /// - Parameter other: the name to compare with.
    public func nameEquals(_ other: UnsafeRawBufferPointer) -> Bool {
        ASCII.equalsIgnoringCase(name, other)
    }

    /// True if the name starts with `prefix`, ignoring ASCII case (e.g. `iothub-app-`).
    ///
    /// - Parameter prefix: the prefix to look for.
    public func nameHasPrefix(_ prefix: StaticString) -> Bool {
        prefix.withBytes { ASCII.hasPrefixIgnoringCase(name, $0) }
    }
}

/// The headers of a parsed response, in the order received, stored compactly in the
/// caller's header buffer. Iterate with `for header in parser.headers`.
public struct HTTPHeaders: Sequence {
    /// Compact entries: per header a 2-byte name length, a 2-byte value length (both
    /// little-endian), the name, the value.
    let storage: UnsafeRawBufferPointer

    /// No headers.
    static var empty: HTTPHeaders { HTTPHeaders(storage: UnsafeRawBufferPointer(start: nil, count: 0)) }

    /// Walks the entries in order.
    public struct Iterator: IteratorProtocol {
        let storage: UnsafeRawBufferPointer
        var offset = 0

        /// The next header, or nil after the last.
        public mutating func next() -> HTTPHeader? {
            guard offset + 4 <= storage.count else { return nil }
            let nameLength = Int(storage[offset]) | Int(storage[offset + 1]) << 8
            let valueLength = Int(storage[offset + 2]) | Int(storage[offset + 3]) << 8
            let nameStart = offset + 4
            let valueEnd = nameStart + nameLength + valueLength
            guard valueEnd <= storage.count else { return nil }
            offset = valueEnd
            return HTTPHeader(
                name: UnsafeRawBufferPointer(rebasing: storage[nameStart..<(nameStart + nameLength)]),
                value: UnsafeRawBufferPointer(rebasing: storage[(nameStart + nameLength)..<valueEnd]))
        }
    }

    /// An iterator from the first header.
    public func makeIterator() -> Iterator { Iterator(storage: storage) }

    /// Number of headers.
    public var count: Int {
        var n = 0
        for _ in self { n += 1 }
        return n
    }

    /// The value of the first header called `name` (ASCII case-insensitive), or nil.
    ///
    /// - Parameter name: the header name.
    /// - Returns: its value, a view into the parser's header buffer.
    public func value(_ name: StaticString) -> UnsafeRawBufferPointer? {
        name.withBytes { value(named: $0) }
    }

    /// The value of the first header called `name` (ASCII case-insensitive), or nil.
    ///
    /// - Parameter name: the header name.
    /// - Returns: its value, a view into the parser's header buffer.
    public func value(named name: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        for header in self where header.nameEquals(name) { return header.value }
        return nil
    }
}

extension HTTPHeaders {
    /// The `ETag` without `W/` and surrounding quotes (RFC 9110, 8.8.3), or nil when absent.
    package var etagUnquoted: UnsafeRawBufferPointer? {
        guard var value = value(HeaderName.etag) else { return nil }
        if value.count >= 2, value[0] == 0x57, value[1] == 0x2F { // "W/"
            value = UnsafeRawBufferPointer(rebasing: value[2...])
        }
        if value.count >= 2, value[0] == ASCII.quote, value[value.count - 1] == ASCII.quote {
            value = UnsafeRawBufferPointer(rebasing: value[1..<(value.count - 1)])
        }
        return value
    }
}
