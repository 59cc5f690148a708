/// Byte-string helpers that avoid `String ==` (which pulls Unicode tables into Embedded builds).
package enum Bytes {
    /// The UTF-8 bytes of constant text (static storage: valid for the program's life).
    ///
    /// - Parameter text: the constant.
    package static func view(_ text: StaticString) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
    }

    /// Whether `a` holds exactly the bytes of `b`.
    ///
    /// - Parameters:
    ///   - a: the bytes.
    ///   - b: the constant to compare with.
    package static func equal(_ a: UnsafeRawBufferPointer, _ b: StaticString) -> Bool {
        equal(a, view(b))
    }

    /// Whether `a` and `b` hold the same bytes.
    ///
    /// - Parameters:
    ///   - a: the first bytes.
    ///   - b: the second bytes.
    package static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        var i = 0
        while i < a.count {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }

    /// Whether `a` starts with the bytes of `prefix`.
    ///
    /// - Parameters:
    ///   - a: the bytes.
    ///   - prefix: the constant prefix.
    package static func hasPrefix(_ a: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
        let p = view(prefix)
        guard a.count >= p.count else { return false }
        return equal(UnsafeRawBufferPointer(rebasing: a[0..<p.count]), p)
    }

    /// The length in bytes of a constant.
    ///
    /// - Parameter text: the constant.
    package static func length(_ text: StaticString) -> Int { text.utf8CodeUnitCount }

    /// Calls a throwing `body` with the bytes of a constant (the standard library's
    /// `withUTF8Buffer` takes only non-throwing closures).
    ///
    /// - Parameters:
    ///   - text: the constant.
    ///   - body: receives its bytes.
    /// - Throws: what `body` throws.
    package static func with<R, E: Error>(_ text: StaticString,
                                          _ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(view(text))
    }

    /// The index of the first `byte` in `a[from...]`, or nil.
    ///
    /// - Parameters:
    ///   - byte: the byte to find.
    ///   - a: the bytes to search.
    ///   - from: where the search starts.
    package static func index(of byte: UInt8, in a: UnsafeRawBufferPointer, from: Int = 0) -> Int? {
        var i = max(from, 0)
        while i < a.count {
            if a[i] == byte { return i }
            i += 1
        }
        return nil
    }

    /// The index of the first occurrence of `needle` in `a`, or nil.
    ///
    /// - Parameters:
    ///   - needle: the constant to find (not empty).
    ///   - a: the bytes to search.
    package static func index(of needle: StaticString, in a: UnsafeRawBufferPointer) -> Int? {
        let n = view(needle)
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

    /// `a[range]` as its own buffer.
    ///
    /// - Parameters:
    ///   - a: the bytes.
    ///   - range: a range within `a`.
    package static func slice(_ a: UnsafeRawBufferPointer, _ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: a[range])
    }
}

/// Hexadecimal digits.
package enum Hex {
    /// The uppercase hex digit of `nibble` (0...15).
    ///
    /// - Parameter nibble: the value, 0...15.
    package static func upper(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x37 + nibble }

    /// The value of a hex digit of either case, or nil.
    ///
    /// - Parameter digit: the byte.
    package static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case 0x30...0x39: return digit - 0x30
        case 0x41...0x46: return digit - 0x37
        case 0x61...0x66: return digit - 0x57
        default: return nil
        }
    }
}
