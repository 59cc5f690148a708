import CTinyPlatform
import TinyBytes

/// Program arguments and environment for examples, without `CommandLine` or Foundation
/// (neither exists in Embedded Swift). The C shim captures argv before `main`.
///
/// ```swift
/// var count: UInt64 = 10
/// if ProcessArguments.argument(1, is: "--count"), let text = ProcessArguments.argument(2),
///    let n = DecimalParser.parse(text, limit: 1_000) {
///     count = n
/// }
/// ```
public enum ProcessArguments {
    /// Number of arguments, including the program name.
    public static var count: Int { Int(tp_argc()) }

    /// Argument `index` (0 = program name), or nil. When the heap cannot hold it, the program
    /// exits 1 with `out of memory` (Embedded Swift would trap on the String's storage).
    ///
    /// - Parameter index: the argument's position (0: the program).
    /// - Returns: the argument, or nil past the last one.
    public static func argument(_ index: Int) -> String? {
        guard let pointer = tp_argv(Int32(clamping: index)) else { return nil }
        return checkedString(pointer, "the program arguments do not fit in the heap")
    }

    /// Whether argument `index` equals `flag` byte for byte (no Unicode tables needed).
    ///
    /// - Parameters:
    ///   - index: the argument's position.
    ///   - flag: the text to compare with.
    /// - Returns: whether they are equal (false past the last argument).
    public static func argument(_ index: Int, is flag: StaticString) -> Bool {
        guard let pointer = tp_argv(Int32(clamping: index)) else { return false }
        return cStringEquals(pointer, flag)
    }
}

/// Environment variables.
///
/// ```swift
/// guard let connectionString = ProcessEnvironment.value("IOTHUB_DEVICE_CONNECTION_STRING") else {
///     Console.write("set IOTHUB_DEVICE_CONNECTION_STRING\n", to: .err)
///     Console.exit(1)
/// }
/// ```
public enum ProcessEnvironment {
    /// The value of `name`, or nil when unset. When the heap cannot hold it, the program
    /// exits 1 with `out of memory` (Embedded Swift would trap on the String's storage).
    ///
    /// - Parameter name: the environment variable's name.
    /// - Returns: its value, or nil when unset.
    public static func value(_ name: StaticString) -> String? {
        guard let pointer = tp_getenv(UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)) else { return nil }
        return checkedString(pointer, "the environment does not fit in the heap")
    }
}

/// `String(cString:)`, after checking that the heap can hold it.
func checkedString(_ pointer: UnsafePointer<CChar>, _ what: StaticString) -> String {
    var length = 0
    while pointer[length] != 0 { length += 1 }
    guard Heap.canAllocate(Heap.stringBytes(utf8Count: length)) else { Heap.exitOutOfMemory(what) }
    return String(cString: pointer)
}

/// Byte-wise comparison of a C string with a static string.
func cStringEquals(_ pointer: UnsafePointer<CChar>, _ text: StaticString) -> Bool {
    let count = text.utf8CodeUnitCount
    var i = 0
    while i < count {
        if UInt8(bitPattern: pointer[i]) != text.utf8Start[i] { return false }
        i += 1
    }
    return pointer[count] == 0
}

/// Parsing of decimal numbers from text without Foundation.
public enum DecimalParser {
    /// The unsigned decimal value of all of `text`, or nil if it is empty, has a non-digit
    /// or exceeds `limit`.
    ///
    /// - Parameters:
    ///   - text: the digits.
    ///   - limit: the largest value accepted.
    /// - Returns: the value, or nil.
    public static func parse(_ text: String, limit: UInt64 = UInt64(Int64.max)) -> UInt64? {
        var copy = text
        return copy.withUTF8 { Decimal.value(UnsafeRawBufferPointer($0), limit: limit) }
    }
}
