import TinyPlatform

/// Command-line parsing shared by the hub examples: `--flag value` pairs, repeatable.
/// Every usage error is one stderr line naming the problem, then the usage, and exit 1.
public struct ExampleArguments {
    /// Index of the next unread argument.
    public private(set) var index = 1

    /// Starts after the program name.
    public init() {}

    /// Whether arguments remain.
    public var hasMore: Bool { index < ProcessArguments.count }

    /// If the current argument is `flag`, consumes it and its value and returns the value.
    /// Exits with a usage error when the value is missing.
    public mutating func value(for flag: StaticString, usage: StaticString) -> String? {
        guard ProcessArguments.argument(index, is: flag) else { return nil }
        guard let value = ProcessArguments.argument(index + 1) else { Self.fail("missing value for ", flag, usage) }
        index += 2
        return value
    }

    /// Like `value(for:)` but parses a decimal number no larger than `limit`.
    public mutating func number(for flag: StaticString, limit: UInt64, usage: StaticString) -> UInt64? {
        guard let text = value(for: flag, usage: usage) else { return nil }
        guard let number = DecimalParser.parse(text, limit: limit) else { Self.fail("bad value for ", flag, usage) }
        return number
    }

    /// Fails with `usage` because the current argument is unknown.
    public func unknown(_ usage: StaticString) -> Never {
        Console.write("unknown option ", to: .err)
        Console.write(ProcessArguments.argument(index) ?? "", to: .err)
        Console.write("; ", to: .err)
        ExampleOutput.fail(usage)
    }

    /// Fails with one line `<problem><flag>; <usage>` (exit 1).
    public static func fail(_ problem: StaticString, _ flag: StaticString, _ usage: StaticString) -> Never {
        Console.write(problem, to: .err)
        Console.write(flag, to: .err)
        Console.write("; ", to: .err)
        ExampleOutput.fail(usage)
    }
}

/// Which face of the hub an example talks to.
public enum ExampleTransport: UInt8 { // raw values: no Hashable witness in Embedded builds
    /// MQTT over TLS, port 8883 (default).
    case mqtt
    /// HTTPS, port 443.
    case https
    /// MQTT over WebSockets over TLS, on the HTTPS port (443); DPS too.
    case mqttWebSocket

    /// Parses exactly `mqtt`, `mqtt-ws` or (when `https` is true) `https`: whole words, byte for byte.
    public static func parse(_ text: String, usage: StaticString, https: Bool = true) -> ExampleTransport {
        if https, textEquals(text, "https") { return .https }
        if textEquals(text, "mqtt") { return .mqtt }
        if textEquals(text, "mqtt-ws") { return .mqttWebSocket }
        ExampleArguments.fail("bad value for ", "--transport", usage)
    }
}

/// Whether `text` is `word` byte for byte (Embedded Swift has no String `==`).
public func textEquals(_ text: String, _ word: StaticString) -> Bool {
    var copy = text
    return copy.withUTF8 { bytes in
        bytes.elementsEqual(UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount))
    }
}
