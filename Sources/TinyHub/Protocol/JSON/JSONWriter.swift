import TinyBytes

/// Writes compact JSON into a caller-owned buffer, checking structure as it goes (keys only in
/// objects, a value after every key, balanced ends, one top-level value) with a nesting limit.
/// A call that does not fit throws `bufferTooSmall` and leaves the writer as it was, so the
/// caller can flush or give up; any other error also leaves it unchanged.
///
/// ```swift
/// var writer = JSONWriter(buffer: scratch)
/// try writer.beginObject()
/// try writer.key("temperature")
/// try writer.integer(21)
/// try writer.endObject()
/// // writer.bytes is {"temperature":21}
/// ```
public struct JSONWriter {
    /// The largest nesting limit a writer supports.
    public static let maxDepthLimit = 64

    private struct State {
        var count: Int
        var depth = 0
        var objects: UInt64 = 0  // bit n set: level n+1 is an object
        var needsComma = false
        var afterKey = false
        var topLevelDone = false
    }

    private let buffer: UnsafeMutableRawBufferPointer
    private let maxDepth: Int
    private var state: State

    /// A writer over `buffer` that allows nesting up to `maxDepth` (clamped to 1...64).
    ///
    /// - Parameters:
    ///   - buffer: where the JSON goes (caller-owned).
    ///   - maxDepth: the deepest nesting allowed.
    public init(buffer: UnsafeMutableRawBufferPointer, maxDepth: Int = 16) {
        self.buffer = buffer
        self.maxDepth = max(1, min(maxDepth, JSONWriter.maxDepthLimit))
        self.state = State(count: 0)
    }

    /// Bytes written so far.
    public var count: Int { state.count }
    /// The JSON written so far.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer[0..<state.count]) }
    /// Whether one complete top-level value has been written.
    public var isComplete: Bool { state.topLevelDone && state.depth == 0 }

    private var inObject: Bool { state.depth > 0 && (state.objects >> UInt64(state.depth - 1)) & 1 == 1 }

    /// `{`
    ///
    /// - Throws: `JSONError`: `invalidState` where no value may go, `tooDeep`, `bufferTooSmall`.
    public mutating func beginObject() throws(JSONError) { try open(object: true) }
    /// `}`
    ///
    /// - Throws: `JSONError`: `invalidState` outside an object or after a key, `bufferTooSmall`.
    public mutating func endObject() throws(JSONError) { try close(object: true) }
    /// `[`
    ///
    /// - Throws: `JSONError`: `invalidState` where no value may go, `tooDeep`, `bufferTooSmall`.
    public mutating func beginArray() throws(JSONError) { try open(object: false) }
    /// `]`
    ///
    /// - Throws: `JSONError`: `invalidState` outside an array, `bufferTooSmall`.
    public mutating func endArray() throws(JSONError) { try close(object: false) }

    /// An object member name (escaped as needed), followed by `:`.
    ///
    /// - Parameter name: the member name (UTF-8).
    /// - Throws: `JSONError`: `invalidState` outside an object or after another key, `bufferTooSmall`.
    public mutating func key(_ name: UnsafeRawBufferPointer) throws(JSONError) {
        guard inObject, !state.afterKey else { throw .invalidState }
        let comma = state.needsComma
        try emit { (sink: inout ByteSink) in
            if comma { sink.byte(0x2C) }
            JSONWriter.quoted(name, into: &sink)
            sink.byte(0x3A)
        }
        state.afterKey = true
        state.needsComma = false
    }

    /// An object member name given as a constant.
    ///
    /// - Parameter name: the member name.
    /// - Throws: `JSONError`: as `key(_:)` with bytes.
    public mutating func key(_ name: StaticString) throws(JSONError) {
        try Bytes.with(name) { (bytes) throws(JSONError) in try key(bytes) }
    }

    /// A string value; `"`, `\` and control characters are escaped, other bytes (UTF-8) are copied.
    ///
    /// - Parameter value: the string (UTF-8).
    /// - Throws: `JSONError`: `invalidState` where no value may go, `bufferTooSmall`.
    public mutating func string(_ value: UnsafeRawBufferPointer) throws(JSONError) {
        try writeValue { (sink: inout ByteSink) in JSONWriter.quoted(value, into: &sink) }
    }

    /// A string value given as a constant.
    ///
    /// - Parameter value: the string.
    /// - Throws: `JSONError`: as `string(_:)` with bytes.
    public mutating func string(_ value: StaticString) throws(JSONError) {
        try Bytes.with(value) { (bytes) throws(JSONError) in try string(bytes) }
    }

    /// An integer value.
    ///
    /// - Parameter value: the number.
    /// - Throws: `JSONError`: `invalidState` where no value may go, `bufferTooSmall`.
    public mutating func integer(_ value: Int64) throws(JSONError) {
        try writeValue { (sink: inout ByteSink) in sink.decimal(value) }
    }

    /// `true` or `false`.
    ///
    /// - Parameter value: the boolean.
    /// - Throws: `JSONError`: `invalidState` where no value may go, `bufferTooSmall`.
    public mutating func bool(_ value: Bool) throws(JSONError) {
        try writeValue { (sink: inout ByteSink) in sink.literal(value ? "true" : "false") }
    }

    /// `null` (in a reported-properties patch this deletes the member).
    ///
    /// - Throws: `JSONError`: `invalidState` where no value may go, `bufferTooSmall`.
    public mutating func null() throws(JSONError) {
        try writeValue { (sink: inout ByteSink) in sink.literal("null") }
    }

    /// Pre-encoded JSON copied as one value, unchecked: the caller vouches that it is valid.
    ///
    /// - Parameter json: one complete JSON value.
    /// - Throws: `JSONError`: `invalidState` where no value may go, `bufferTooSmall`.
    public mutating func raw(_ json: UnsafeRawBufferPointer) throws(JSONError) {
        try writeValue { (sink: inout ByteSink) in sink.bytes(json) }
    }

    // MARK: - Structure

    private mutating func open(object: Bool) throws(JSONError) {
        guard state.depth < maxDepth else { throw .tooDeep(maxDepth: maxDepth) }
        try writeValue { (sink: inout ByteSink) in sink.byte(object ? 0x7B : 0x5B) }
        // value() marked the container as a finished value; undo that for the open container.
        state.depth += 1
        let bit = UInt64(1) << UInt64(state.depth - 1)
        if object { state.objects |= bit } else { state.objects &= ~bit }
        state.needsComma = false
        state.afterKey = false
        if state.depth == 1 { state.topLevelDone = false }
    }

    private mutating func close(object: Bool) throws(JSONError) {
        guard state.depth > 0, inObject == object, !state.afterKey else { throw .invalidState }
        try emit { (sink: inout ByteSink) in sink.byte(object ? 0x7D : 0x5D) }
        state.depth -= 1
        state.needsComma = true
        state.afterKey = false
        if state.depth == 0 { state.topLevelDone = true }
    }

    /// Writes one value where the grammar allows it.
    private mutating func writeValue(_ body: (inout ByteSink) -> Void) throws(JSONError) {
        if state.depth == 0 {
            guard !state.topLevelDone else { throw .invalidState }
        } else if inObject {
            guard state.afterKey else { throw .invalidState }
        }
        let comma = state.depth > 0 && !inObject && state.needsComma
        try emit { (sink: inout ByteSink) in
            if comma { sink.byte(0x2C) }
            body(&sink)
        }
        state.afterKey = false
        state.needsComma = true
        if state.depth == 0 { state.topLevelDone = true }
    }

    /// Runs `body` on a sink at the current position; rolls back if it overflowed.
    private mutating func emit(_ body: (inout ByteSink) -> Void) throws(JSONError) {
        var sink = ByteSink(buffer, start: state.count)
        body(&sink)
        guard !sink.overflowed else { throw .bufferTooSmall(needed: sink.count) }
        state.count = sink.count
    }

    static func quoted(_ text: UnsafeRawBufferPointer, into sink: inout ByteSink) {
        sink.byte(0x22)
        for byte in text {
            switch byte {
            case 0x22: sink.byte(0x5C); sink.byte(0x22)
            case 0x5C: sink.byte(0x5C); sink.byte(0x5C)
            case 0x0A: sink.byte(0x5C); sink.byte(0x6E)
            case 0x0D: sink.byte(0x5C); sink.byte(0x72)
            case 0x09: sink.byte(0x5C); sink.byte(0x74)
            case 0x08: sink.byte(0x5C); sink.byte(0x62)
            case 0x0C: sink.byte(0x5C); sink.byte(0x66)
            case 0..<0x20:
                sink.literal("\\u00")
                sink.byte(Hex.upper(byte >> 4))
                sink.byte(Hex.upper(byte & 0x0F))
            default: sink.byte(byte)
            }
        }
        sink.byte(0x22)
    }
}
