import TinyPlatform

/// Command-line parsing shared by the hub examples: `--flag value` pairs, repeatable.
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
        guard let value = ProcessArguments.argument(index + 1) else { ExampleOutput.fail(usage) }
        index += 2
        return value
    }

    /// Like `value(for:)` but parses a decimal number no larger than `limit`.
    public mutating func number(for flag: StaticString, limit: UInt64, usage: StaticString) -> UInt64? {
        guard let text = value(for: flag, usage: usage) else { return nil }
        guard let number = DecimalParser.parse(text, limit: limit) else { ExampleOutput.fail(usage) }
        return number
    }

    /// Fails with `usage` because the current argument is unknown.
    public func unknown(_ usage: StaticString) -> Never { ExampleOutput.fail(usage) }
}

/// Which face of the hub an example talks to.
public enum ExampleTransport: UInt8 { // raw values: no Hashable witness in Embedded builds
    /// MQTT over TLS, port 8883 (default).
    case mqtt
    /// HTTPS, port 443.
    case https

    /// Parses `mqtt` or `https`.
    public static func parse(_ text: String, usage: StaticString) -> ExampleTransport {
        var copy = text
        let isHTTPS = copy.withUTF8 { $0.count == 5 && $0[0] == 0x68 && $0[4] == 0x73 && $0[1] == 0x74 }
        let isMQTT = copy.withUTF8 { $0.count == 4 && $0[0] == 0x6D && $0[1] == 0x71 && $0[3] == 0x74 }
        if isHTTPS { return .https }
        if isMQTT { return .mqtt }
        ExampleOutput.fail(usage)
    }
}
