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

    /// Writes `label`, a space, `bytes` and a newline to stdout: one record of an example's
    /// machine-readable output (`c2d <payload>`, `twin <json>`, ...).
    public static func record(_ label: StaticString, _ bytes: UnsafeRawBufferPointer) {
        Console.write(label)
        Console.write(" ")
        Console.write(bytes: bytes)
        Console.write("\n")
    }

    /// Writes `message` and a newline to stderr (progress and diagnostics).
    public static func note(_ message: StaticString) {
        Console.write(message, to: .err)
        Console.write("\n", to: .err)
    }

    /// Prints `prefix`, a number and `suffix` on one stderr line and exits with `code`.
    public static func fail(_ prefix: StaticString, _ value: Int64, _ suffix: StaticString, code: Int32 = 1) -> Never {
        Console.write(prefix, to: .err)
        Console.write(int: value, to: .err)
        Console.write(suffix, to: .err)
        Console.write("\n", to: .err)
        Console.exit(code)
    }
}
