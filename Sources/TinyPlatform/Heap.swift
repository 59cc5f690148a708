import CTinyPlatform

/// Heap probes for the allocations Embedded Swift cannot report: when a class instance or a
/// `String`'s storage does not fit, the runtime traps (a reboot on a device) instead of
/// returning nil. Code about to create such objects asks first and reports out of memory.
/// `UnsafeMutablePointer.allocate` needs no probe: Embedded Swift returns null, check that.
public enum Heap {
    /// Whether `bytes` can be allocated right now: mallocs that much and frees it at once.
    /// Right before creating objects of at most `bytes` in all (single-threaded start-up),
    /// a `true` means they fit.
    ///
    /// - Parameter bytes: the size to try.
    /// - Returns: whether the allocation succeeded.
    public static func canAllocate(_ bytes: Int) -> Bool {
        tp_can_allocate(max(0, bytes)) != 0
    }

    /// An upper bound of the heap a `String` of `utf8Count` bytes made by `String(cString:)`
    /// or `String(decoding:as:)` takes: its storage object (32-byte header, then a capacity the
    /// runtime rounds up: measured 80 bytes for 35, 144 for 93). Twice the bytes plus 64
    /// covers that and one doubling when appended to. Short strings live inline and take
    /// nothing, but probing them too keeps this independent of the platform's inline limit.
    ///
    /// - Parameter utf8Count: the string's length in UTF-8 bytes.
    /// - Returns: an upper bound of its heap use, in bytes.
    public static func stringBytes(utf8Count: Int) -> Int {
        2 &* utf8Count &+ 64
    }

    /// Ends the program: writes `<program>: out of memory: <what>` as one line on stderr and
    /// exits with code 1. For programs and their helpers (`ProcessEnvironment`,
    /// `ProcessArguments`); the SDK's libraries report `outOfMemory` errors instead.
    ///
    /// - Parameter what: what could not be allocated, for the message.
    public static func exitOutOfMemory(_ what: StaticString) -> Never {
        if let name = tp_program_name() {
            var length = 0
            while name[length] != 0 { length += 1 }
            tp_write(2, name, length)
        }
        Console.write(": out of memory: ", to: .err)
        Console.write(what, to: .err)
        Console.write("\n", to: .err)
        Console.exit(1)
    }
}
