import TinyHub

/// Appends bytes into a caller buffer; writes past the end are dropped but counted, so
/// `count` is the size the whole output needs and `overflowed` tells whether it fit.
struct ProvisioningSink {
    let buffer: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }

    var overflowed: Bool { count > buffer.count }

    mutating func truncate(to position: Int) {
        if position < count { count = position }
    }

    mutating func byte(_ value: UInt8) {
        if count < buffer.count { buffer[count] = value }
        count += 1
    }

    mutating func bytes(_ data: UnsafeRawBufferPointer) {
        for value in data { byte(value) }
    }

    mutating func literal(_ text: StaticString) {
        text.withUTF8Buffer { bytes(UnsafeRawBufferPointer($0)) }
    }

    /// Decimal digits of `value`, no leading zeros.
    mutating func decimal(_ value: UInt64) {
        var scale: UInt64 = 1
        while value / scale >= 10 { scale *= 10 }
        var rest = value
        while scale > 0 {
            byte(0x30 + UInt8(rest / scale))
            rest %= scale
            scale /= 10
        }
    }

    /// `data` percent-encoded with TinyHub's rules (unreserved bytes pass, `%XX` uppercase).
    mutating func percentEncoded(_ data: UnsafeRawBufferPointer) {
        let hex: StaticString = "0123456789ABCDEF"
        let digits = UnsafeRawBufferPointer(start: hex.utf8Start, count: hex.utf8CodeUnitCount)
        for value in data {
            if PercentEncoding.isUnreserved(value) {
                byte(value)
            } else {
                byte(0x25)
                byte(digits[Int(value >> 4)])
                byte(digits[Int(value & 0x0F)])
            }
        }
    }
}

/// Byte helpers for constant text (no String comparison in Embedded Swift).
enum ProvisioningBytes {
    static func view(_ text: StaticString) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
    }

    static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<a.count where a[i] != b[i] { return false }
        return true
    }

    static func hasPrefix(_ data: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
        let p = view(prefix)
        guard data.count >= p.count else { return false }
        return equal(UnsafeRawBufferPointer(rebasing: data[0..<p.count]), p)
    }

    /// Decimal value of `digits` (1...10 ASCII digits, at most `max`), or nil.
    static func decimal(_ digits: UnsafeRawBufferPointer, max: UInt64) -> UInt64? {
        guard digits.count > 0, digits.count <= 10 else { return nil }
        var value: UInt64 = 0
        for d in digits {
            guard d >= 0x30, d <= 0x39 else { return nil }
            value = value * 10 + UInt64(d - 0x30)
        }
        return value <= max ? value : nil
    }
}
