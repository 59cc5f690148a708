import TinyBytes

/// Runs `body` over the UTF-8 bytes of `text`.
func withBytes<R>(_ text: String, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try Array(text.utf8).withUnsafeBytes(body)
}

/// Decodes bytes as UTF-8 text (for comparisons in tests only).
func text(_ bytes: UnsafeRawBufferPointer) -> String { String(decoding: bytes, as: UTF8.self) }

/// Runs a writer into a fresh buffer of `capacity` bytes and returns what it wrote as text.
func written(_ capacity: Int = 1024, _ body: (UnsafeMutableRawBufferPointer) throws -> Int) rethrows -> String {
    var storage = [UInt8](repeating: 0xAA, count: capacity)
    return try storage.withUnsafeMutableBytes { buffer in
        let n = try body(buffer)
        return text(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
    }
}

/// What a sink over `capacity` bytes holds after `body`: the text written, the count, whether it
/// overflowed, and the whole buffer (it starts as 0xAA bytes).
func sink(_ capacity: Int, _ body: (inout ByteSink) -> Void) -> (text: String, count: Int, overflowed: Bool, raw: [UInt8]) {
    var storage = [UInt8](repeating: 0xAA, count: capacity)
    let (written, count, overflowed) = storage.withUnsafeMutableBytes { buffer in
        var sink = ByteSink(buffer)
        body(&sink)
        return (text(sink.written), sink.count, sink.overflowed)
    }
    return (written, count, overflowed, storage)
}
