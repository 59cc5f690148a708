/// Byte-level helpers for HTTP/1.1 syntax (RFC 9110 §5.6, RFC 9112). Everything works on
/// raw bytes: no `String` comparison, so no Unicode tables in Embedded builds.
enum ASCII {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let sp: UInt8 = 0x20
    static let htab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let comma: UInt8 = 0x2C
    static let quote: UInt8 = 0x22

    /// Lower-cases an ASCII letter; every other byte is returned unchanged.
    @inline(__always)
    static func lower(_ byte: UInt8) -> UInt8 {
        byte &- 0x41 < 26 ? byte | 0x20 : byte
    }

    /// SP or HTAB (RFC 9110 §5.6.3 OWS).
    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool { byte == sp || byte == htab }

    /// `0`...`9`.
    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }

    /// RFC 9110 §5.6.2 `tchar`: the characters allowed in a header name.
    static func isTokenChar(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: return true
        default: return false
        }
    }

    /// RFC 9110 §5.5 field-value bytes: VCHAR, obs-text, SP and HTAB; never CR, LF, NUL or
    /// another control character.
    @inline(__always)
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == htab || (byte >= 0x20 && byte != 0x7F)
    }

    /// Value of a hexadecimal digit, or -1.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> Int {
        switch byte {
        case 0x30...0x39: return Int(byte - 0x30)
        case 0x41...0x46: return Int(byte - 0x41 + 10)
        case 0x61...0x66: return Int(byte - 0x61 + 10)
        default: return -1
        }
    }

    /// Compares two byte strings, ignoring ASCII case.
    static func equalsIgnoringCase(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        var i = 0
        while i < a.count {
            guard lower(a[i]) == lower(b[i]) else { return false }
            i += 1
        }
        return true
    }

    /// True if `bytes` starts with `prefix`, ignoring ASCII case.
    static func hasPrefixIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ prefix: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= prefix.count else { return false }
        return equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: bytes[0..<prefix.count]), prefix)
    }

    /// Range of `bytes[start..<end]` without leading and trailing SP/HTAB.
    static func trimmed(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Range<Int> {
        var lo = start, hi = end
        while lo < hi, isWhitespace(bytes[lo]) { lo += 1 }
        while hi > lo, isWhitespace(bytes[hi - 1]) { hi -= 1 }
        return lo..<hi
    }

    /// Calls `body` with each comma-separated element of a list value (RFC 9110 §5.6.1),
    /// trimmed of OWS. Empty elements are passed too; callers decide whether to accept them.
    static func forEachListElement<E: Error>(
        _ value: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws(E) -> Void
    ) throws(E) {
        var start = 0
        var i = 0
        while i <= value.count {
            if i == value.count || value[i] == comma {
                let range = trimmed(value, start, i)
                try body(UnsafeRawBufferPointer(rebasing: value[range]))
                start = i + 1
            }
            i += 1
        }
    }
}

extension StaticString {
    /// Runs `body` with the string's UTF-8 bytes as a raw buffer (no closure boxing, so
    /// typed throws pass straight through).
    @inline(__always)
    func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        if hasPointerRepresentation {
            return try body(UnsafeRawBufferPointer(start: utf8Start, count: utf8CodeUnitCount))
        }
        // A single-scalar literal: encode it as UTF-8 on the stack.
        let value = unicodeScalar.value
        var storage: UInt32 = 0
        return try withUnsafeMutableBytes(of: &storage) { (raw) throws(E) -> R in
            let count: Int
            switch value {
            case ..<0x80:
                raw[0] = UInt8(value); count = 1
            case ..<0x800:
                raw[0] = UInt8(0xC0 | value >> 6); raw[1] = UInt8(0x80 | value & 0x3F); count = 2
            case ..<0x10000:
                raw[0] = UInt8(0xE0 | value >> 12); raw[1] = UInt8(0x80 | value >> 6 & 0x3F)
                raw[2] = UInt8(0x80 | value & 0x3F); count = 3
            default:
                raw[0] = UInt8(0xF0 | value >> 18); raw[1] = UInt8(0x80 | value >> 12 & 0x3F)
                raw[2] = UInt8(0x80 | value >> 6 & 0x3F); raw[3] = UInt8(0x80 | value & 0x3F); count = 4
            }
            return try body(UnsafeRawBufferPointer(rebasing: raw[0..<count]))
        }
    }
}
