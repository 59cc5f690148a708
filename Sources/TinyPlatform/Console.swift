import CTinyPlatform
import TinyBytes

/// Minimal unbuffered output for examples and logs, without `print` (whose Embedded
/// form pulls in formatting code) and without Foundation.
///
/// ```swift
/// Console.write("sent ")
/// Console.write(int: 3)
/// Console.write("\n")
/// Console.write("no connection string\n", to: .err)
/// Console.exit(1)
/// ```
public enum Console {
    /// Where a line goes.
    public enum Stream: Int32 {
        /// Standard output (fd 1).
        case out = 1
        /// Standard error (fd 2).
        case err = 2
    }

    /// Writes a static string.
    ///
    /// - Parameters:
    ///   - text: what to write.
    ///   - stream: standard output or standard error.
    public static func write(_ text: StaticString, to stream: Stream = .out) {
        tp_write(stream.rawValue, text.utf8Start, text.utf8CodeUnitCount)
    }

    /// Writes raw bytes (assumed UTF-8 text).
    ///
    /// - Parameters:
    ///   - bytes: what to write.
    ///   - stream: standard output or standard error.
    public static func write(bytes: UnsafeRawBufferPointer, to stream: Stream = .out) {
        tp_write(stream.rawValue, bytes.baseAddress, bytes.count)
    }

    /// Writes a string's UTF-8 bytes.
    ///
    /// - Parameters:
    ///   - text: what to write.
    ///   - stream: standard output or standard error.
    public static func write(_ text: String, to stream: Stream = .out) {
        var copy = text
        copy.withUTF8 { tp_write(stream.rawValue, $0.baseAddress, $0.count) }
    }

    /// Writes a signed integer in decimal.
    ///
    /// - Parameters:
    ///   - value: the integer.
    ///   - stream: where it goes.
    public static func write(int value: Int64, to stream: Stream = .out) {
        Decimal.withText(value) { tp_write(stream.rawValue, $0.baseAddress, $0.count) }
    }

    /// Formats `value` in decimal (with `-` when negative) at the start of `buffer`.
    ///
    /// - Parameters:
    ///   - value: the integer.
    ///   - buffer: where the text goes; 20 bytes hold every value.
    /// - Returns: the text's length, or 0 (nothing written) when `buffer` is too small.
    public static func formatDecimal(_ value: Int64, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var sink = ByteSink(buffer)
        sink.decimal(value)
        return sink.overflowed ? 0 : sink.count
    }

    /// Exits the process through C `exit()`, so buffered output is not lost (a Swift
    /// `fatalError` in Embedded mode is a bare trap).
    ///
    /// - Parameter code: the process's exit status.
    public static func exit(_ code: Int32) -> Never { tp_exit(code) }
}
