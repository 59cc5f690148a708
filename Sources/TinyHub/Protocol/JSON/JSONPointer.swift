import TinyBytes

/// Looks values up by JSON Pointer (RFC 6901: `/desired/$version`, `~1` = `/`, `~0` = `~`,
/// array elements by decimal index) without allocating.
///
/// ```swift
/// // twin is the body of a twin GET response: {"desired":{"$version":7,…},"reported":{…}}
/// let version = try JSONPointer.integer("/desired/$version", in: twin)   // 7, or nil when absent
/// ```
public enum JSONPointer {
    /// Longest pointer segment accepted (decoded into stack scratch).
    public static let maxSegmentLength = 128

    /// The value at `pointer` in `document`, or nil if some member or element is missing.
    /// Scalars come back as their token; containers as their start token with `range`
    /// widened to the whole value (brackets included), ready for a new `JSONReader`.
    /// The empty pointer names the whole document. Only the part of the document up to the
    /// value is checked, so a match in a document broken further on is still returned.
    ///
    /// - Parameters:
    ///   - pointer: an RFC 6901 JSON pointer (`/desired/$version`; empty: the whole document).
    ///   - document: the JSON text.
    ///   - maxDepth: the deepest nesting read.
    ///   - maxSize: the largest document read.
    /// - Returns: the value's token, or nil when absent.
    /// - Throws: `JSONError` for a malformed pointer or document, or one over the limits.
    public static func find(_ pointer: UnsafeRawBufferPointer, in document: UnsafeRawBufferPointer,
                            maxDepth: Int = 32, maxSize: Int = 65_536) throws(JSONError) -> JSONToken? {
        var reader = try JSONReader(document, maxDepth: maxDepth, maxSize: maxSize)
        guard var token = try reader.next() else { throw .unexpectedEnd }
        var start = 0
        if pointer.count > 0 {
            guard pointer[0] == 0x2F else { throw .invalidPointer }
            start = 1
        }
        var remaining = pointer.count > 0
        while remaining {
            let end = Bytes.index(of: 0x2F, in: pointer, from: start) ?? pointer.count
            let segment = Bytes.slice(pointer, start..<end)
            remaining = end < pointer.count
            start = end + 1
            switch token.kind {
            case .objectStart:
                let found: JSONToken? = try withSegment(segment) { (name) throws(JSONError) in try reader.findMember(name) }
                guard let value = found else { return nil }
                token = value
            case .arrayStart:
                guard let index = Decimal.value(segment, limit: UInt64(Int.max)),
                      segment.count == 1 || segment[0] != 0x30 else { return nil }
                var element = try reader.next()
                var i: UInt64 = 0
                while let current = element, current.kind != .arrayEnd, i < index {
                    try reader.skip(current)
                    element = try reader.next()
                    i += 1
                }
                guard let current = element, current.kind != .arrayEnd else { return nil }
                token = current
            default:
                return nil // a scalar has no children
            }
        }
        if token.kind == .objectStart || token.kind == .arrayStart {
            let begin = token.range.lowerBound
            try reader.skip(token)
            token.range = begin..<reader.offset
        }
        return token
    }

    /// `find` with a constant pointer.
    ///
    /// - Parameters:
    ///   - pointer: an RFC 6901 JSON pointer.
    ///   - document: the JSON text.
    ///   - maxDepth: the deepest nesting read.
    ///   - maxSize: the largest document read.
    /// - Returns: the value's token, or nil when absent.
    /// - Throws: `JSONError`, as the byte-view form.
    public static func find(_ pointer: StaticString, in document: UnsafeRawBufferPointer,
                            maxDepth: Int = 32, maxSize: Int = 65_536) throws(JSONError) -> JSONToken? {
        try Bytes.with(pointer) { (bytes) throws(JSONError) in try find(bytes, in: document, maxDepth: maxDepth, maxSize: maxSize) }
    }

    /// The integer at `pointer` (e.g. `"/desired/$version"` in a twin GET response, `"/$version"`
    /// in a desired patch), or nil if absent. Throws `typeMismatch` if it is not a number.
    ///
    /// - Parameters:
    ///   - pointer: an RFC 6901 JSON pointer.
    ///   - document: the JSON text.
    ///   - maxDepth: the deepest nesting read.
    ///   - maxSize: the largest document read.
    /// - Returns: the integer, or nil when absent.
    /// - Throws: `JSONError`: `typeMismatch` for a value that is not a number, else as `find`.
    public static func integer(_ pointer: StaticString, in document: UnsafeRawBufferPointer,
                               maxDepth: Int = 32, maxSize: Int = 65_536) throws(JSONError) -> Int64? {
        guard let token = try find(pointer, in: document, maxDepth: maxDepth, maxSize: maxSize) else { return nil }
        guard token.kind == .number else { throw .typeMismatch }
        return try JSONNumber.integer(UnsafeRawBufferPointer(rebasing: document[token.range]))
    }

    /// Decodes `~0`/`~1` of one segment into stack scratch and calls `body` with it.
    private static func withSegment<R>(_ segment: UnsafeRawBufferPointer,
                                       _ body: (UnsafeRawBufferPointer) throws(JSONError) -> R) throws(JSONError) -> R {
        guard segment.count <= maxSegmentLength else { throw .invalidPointer }
        if Bytes.index(of: 0x7E, in: segment) == nil { return try body(segment) }
        let result: Result<R, JSONError> = withUnsafeTemporaryAllocation(byteCount: maxSegmentLength, alignment: 1) { scratch in
            var o = 0
            var i = 0
            while i < segment.count {
                var byte = segment[i]
                if byte == 0x7E {
                    guard i + 1 < segment.count else { return .failure(.invalidPointer) }
                    switch segment[i + 1] {
                    case 0x30: byte = 0x7E
                    case 0x31: byte = 0x2F
                    default: return .failure(.invalidPointer)
                    }
                    i += 1
                }
                scratch[o] = byte
                o += 1
                i += 1
            }
            do throws(JSONError) {
                return .success(try body(UnsafeRawBufferPointer(rebasing: scratch[0..<o])))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}
