import TinyPlatform

/// Output helpers: one clear line on stderr for failures, exit codes through C `exit()`.
public enum ExampleOutput {
    /// Prints `message` to stderr and exits 1.
    public static func fail(_ message: StaticString) -> Never {
        Console.write(message, to: .err)
        Console.write("\n", to: .err)
        Console.exit(1)
    }

    /// Prints `prefix` and `detail` on one stderr line and exits with `code` (2 for authentication failures).
    public static func fail(_ prefix: StaticString, _ detail: StaticString, code: Int32 = 1) -> Never {
        Console.write(prefix, to: .err)
        Console.write(detail, to: .err)
        Console.write("\n", to: .err)
        Console.exit(code)
    }

    /// Writes `label` and a number, then a newline, to stdout.
    public static func line(_ label: StaticString, _ value: Int64) {
        Console.write(label)
        Console.write(int: value)
        Console.write("\n")
    }
}
