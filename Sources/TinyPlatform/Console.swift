import CTinyPlatform

/// Minimal unbuffered output for examples and logs, without `print` (whose Embedded
/// form pulls in formatting code) and without Foundation.
public enum Console {
    /// Where a line goes.
    public enum Stream: Int32 {
        /// Standard output (fd 1).
        case out = 1
        /// Standard error (fd 2).
        case err = 2
    }

    /// Writes a static string.
    public static func write(_ text: StaticString, to stream: Stream = .out) {
        tp_write(stream.rawValue, text.utf8Start, text.utf8CodeUnitCount)
    }

    /// Writes raw bytes (assumed UTF-8 text).
    public static func write(bytes: UnsafeRawBufferPointer, to stream: Stream = .out) {
        tp_write(stream.rawValue, bytes.baseAddress, bytes.count)
    }

    /// Writes a string's UTF-8 bytes.
    public static func write(_ text: String, to stream: Stream = .out) {
        var copy = text
        copy.withUTF8 { tp_write(stream.rawValue, $0.baseAddress, $0.count) }
    }

    /// Writes a signed integer in decimal.
    public static func write(int value: Int64, to stream: Stream = .out) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0) // 24 bytes of scratch on the stack
        withUnsafeMutableBytes(of: &digits) { scratch in
            let count = formatDecimal(value, into: scratch)
            tp_write(stream.rawValue, scratch.baseAddress, count)
        }
    }

    /// Formats `value` in decimal into `buffer` (needs up to 20 bytes); returns the length.
    public static func formatDecimal(_ value: Int64, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var magnitude = value.magnitude
        var reversed: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &reversed) { tmp in
            repeat {
                tmp[count] = UInt8(truncatingIfNeeded: magnitude % 10) + 0x30
                magnitude /= 10
                count += 1
            } while magnitude > 0
            var out = 0
            if value < 0, buffer.count > 0 { buffer[0] = 0x2D; out = 1 }
            var i = count
            while i > 0, out < buffer.count { i -= 1; buffer[out] = tmp[i]; out += 1 }
            count = out
        }
        return count
    }

    /// Exits the process through C `exit()`, so buffered output is not lost (a Swift
    /// `fatalError` in Embedded mode is a bare trap).
    public static func exit(_ code: Int32) -> Never { tp_exit(code) }
}
