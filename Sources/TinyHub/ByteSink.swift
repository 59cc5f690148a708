/// Appends bytes into a caller-owned buffer. Writes past the end are dropped but still
/// counted, so after a run of appends `count` is the size the whole output needs and
/// `overflowed` tells whether it fit. Every store is bounds-checked.
package struct ByteSink {
    /// The caller's buffer.
    package let buffer: UnsafeMutableRawBufferPointer
    /// Bytes appended so far (may exceed `buffer.count`).
    package private(set) var count: Int

    /// A sink that starts writing at `start` (bytes before it are left alone).
    package init(_ buffer: UnsafeMutableRawBufferPointer, start: Int = 0) {
        self.buffer = buffer
        self.count = start
    }

    /// Whether some appended byte did not fit.
    package var overflowed: Bool { count > buffer.count }

    /// The bytes written so far (only meaningful when `!overflowed`).
    package var written: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[0..<min(count, buffer.count)])
    }

    /// Forgets everything after `position` (used to roll back a failed append).
    package mutating func truncate(to position: Int) {
        if position < count { count = position }
    }

    package mutating func byte(_ value: UInt8) {
        if count < buffer.count { buffer[count] = value }
        count += 1
    }

    package mutating func bytes(_ data: UnsafeRawBufferPointer) {
        let end = count + data.count
        if end <= buffer.count, data.count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: buffer[count..<end]).copyMemory(from: data)
        }
        count = end
    }

    package mutating func literal(_ text: StaticString) {
        text.withUTF8Buffer { bytes(UnsafeRawBufferPointer($0)) }
    }

    /// Decimal digits of `value`, no sign, no leading zeros.
    package mutating func decimal(_ value: UInt64) {
        var scale: UInt64 = 1
        while value / scale >= 10 { scale *= 10 }
        var rest = value
        while scale > 0 {
            byte(0x30 + UInt8(rest / scale))
            rest %= scale
            scale /= 10
        }
    }

    /// Signed decimal.
    package mutating func decimal(_ value: Int64) {
        if value < 0 {
            byte(0x2D)
            decimal(UInt64(0) &- UInt64(bitPattern: value)) // magnitude, Int64.min safe
        } else {
            decimal(UInt64(value))
        }
    }

    /// `data` percent-encoded (RFC 3986 unreserved set, uppercase hex).
    package mutating func percentEncoded(_ data: UnsafeRawBufferPointer) {
        for value in data {
            if PercentEncoding.isUnreserved(value) {
                byte(value)
            } else {
                byte(0x25)
                byte(Hex.upper(value >> 4))
                byte(Hex.upper(value & 0x0F))
            }
        }
    }
}

/// Hex digit helpers.
enum Hex {
    static func upper(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x37 + nibble }

    /// Value of a hex digit of either case, or nil.
    static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case 0x30...0x39: return digit - 0x30
        case 0x41...0x46: return digit - 0x37
        case 0x61...0x66: return digit - 0x57
        default: return nil
        }
    }
}

/// Byte comparisons that avoid `String ==` (Unicode tables in Embedded builds).
package enum Bytes {
    /// The UTF-8 bytes of constant text (static storage: valid for the program's life).
    package static func view(_ text: StaticString) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
    }

    package static func equal(_ a: UnsafeRawBufferPointer, _ b: StaticString) -> Bool {
        b.withUTF8Buffer { equal(a, UnsafeRawBufferPointer($0)) }
    }

    package static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        var i = 0
        while i < a.count {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }

    package static func hasPrefix(_ a: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
        prefix.withUTF8Buffer { p in
            guard a.count >= p.count else { return false }
            return equal(UnsafeRawBufferPointer(rebasing: a[0..<p.count]), UnsafeRawBufferPointer(p))
        }
    }

    package static func length(_ text: StaticString) -> Int { text.utf8CodeUnitCount }

    /// `withUTF8Buffer` for a throwing body (the stdlib one takes only non-throwing closures).
    package static func with<R, E: Error>(_ text: StaticString,
                                  _ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let result: Result<R, E> = text.withUTF8Buffer { bytes in
            do throws(E) { return .success(try body(UnsafeRawBufferPointer(bytes))) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Index of the first `byte` in `a[from...]`, or nil.
    package static func index(of byte: UInt8, in a: UnsafeRawBufferPointer, from: Int = 0) -> Int? {
        var i = from
        while i < a.count {
            if a[i] == byte { return i }
            i += 1
        }
        return nil
    }

    /// Index of the first occurrence of `needle` in `a`, or nil.
    package static func index(of needle: StaticString, in a: UnsafeRawBufferPointer) -> Int? {
        needle.withUTF8Buffer { n -> Int? in
            let m = n.count
            guard m > 0, a.count >= m else { return nil }
            var i = 0
            while i + m <= a.count {
                var j = 0
                while j < m, a[i + j] == n[j] { j += 1 }
                if j == m { return i }
                i += 1
            }
            return nil
        }
    }

    package static func slice(_ a: UnsafeRawBufferPointer, _ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: a[range])
    }

    /// Parses an unsigned decimal without sign or leading `+`; nil when empty, not all
    /// digits, or above `max`.
    package static func parseDecimal(_ a: UnsafeRawBufferPointer, max: UInt64) -> UInt64? {
        guard a.count > 0 else { return nil }
        var value: UInt64 = 0
        for digit in a {
            guard digit >= 0x30, digit <= 0x39 else { return nil }
            let d = UInt64(digit - 0x30)
            guard value <= (max - d) / 10 else { return nil }
            value = value * 10 + d
        }
        return value
    }
}
