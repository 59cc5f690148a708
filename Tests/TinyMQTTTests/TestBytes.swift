import TinyMQTT

/// Helpers to call the pointer-based codec from tests with arrays and strings.
enum TestBytes {
    /// Encodes with `body` into a 64 KB scratch buffer and returns the bytes written.
    static func encode(_ body: (UnsafeMutableRawBufferPointer) throws(MQTTCodecError) -> Int) throws(MQTTCodecError) -> [UInt8] {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 70_000, alignment: 1)
        defer { buffer.deallocate() }
        let n = try body(buffer)
        return Array(buffer[0..<n])
    }

    /// Runs `body` with the raw bytes of `array` (kept alive for the call).
    static func with<R>(_ array: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try array.withUnsafeBytes { try body($0) }
    }

    /// Decodes one whole packet from `array`; nil if incomplete.
    static func decode(_ array: [UInt8]) throws(MQTTCodecError) -> MQTTInboundPacket? {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, array.count), alignment: 1)
        // Deliberately leaked for the test's lifetime: decoded packets point into it.
        copy.copyBytes(from: array)
        return try MQTTDecoder.decode(UnsafeRawBufferPointer(rebasing: copy[0..<array.count]))?.packet
    }

    /// Decodes and returns the error, or nil when decoding succeeded or needed more bytes.
    static func decodeError(_ array: [UInt8]) -> MQTTCodecError? {
        do { _ = try decode(array); return nil } catch { return error }
    }
}

extension UnsafeRawBufferPointer {
    /// The bytes as an array, for comparisons.
    var array: [UInt8] { Array(self) }
}

/// UTF-8 bytes of a string.
func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }
