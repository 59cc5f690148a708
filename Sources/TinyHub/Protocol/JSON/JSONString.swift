import TinyBytes

/// JSON string unescaping (RFC 8259 §7), including `\uXXXX` with UTF-16 surrogate pairs → UTF-8.
enum JSONString {
    /// Unescapes `raw` (text between the quotes) into `output`; returns the length.
    static func unescape(_ raw: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                         baseOffset: Int) throws(JSONError) -> Int {
        var sink = ByteSink(output)
        try walk(raw, baseOffset: baseOffset) { byte in sink.byte(byte); return true }
        guard !sink.overflowed else { throw .bufferTooSmall(needed: sink.count) }
        return sink.count
    }

    /// Whether `raw` unescaped equals `text`.
    static func equals(_ raw: UnsafeRawBufferPointer, _ text: UnsafeRawBufferPointer,
                       baseOffset: Int) throws(JSONError) -> Bool {
        var index = 0
        let complete = try walk(raw, baseOffset: baseOffset) { byte in
            guard index < text.count, text[index] == byte else { return false }
            index += 1
            return true
        }
        return complete && index == text.count
    }

    /// Feeds each unescaped byte to `emit`; stops early (returning false) when `emit` does.
    @discardableResult
    static func walk(_ raw: UnsafeRawBufferPointer, baseOffset: Int,
                     _ emit: (UInt8) -> Bool) throws(JSONError) -> Bool {
        var i = 0
        let n = raw.count
        while i < n {
            let byte = raw[i]
            if byte != 0x5C {
                guard byte >= 0x20 else { throw .invalidString(offset: baseOffset + i) }
                if !emit(byte) { return false }
                i += 1
                continue
            }
            guard i + 1 < n else { throw .invalidString(offset: baseOffset + i) }
            let simple: UInt8
            switch raw[i + 1] {
            case 0x22: simple = 0x22
            case 0x5C: simple = 0x5C
            case 0x2F: simple = 0x2F
            case 0x62: simple = 0x08
            case 0x66: simple = 0x0C
            case 0x6E: simple = 0x0A
            case 0x72: simple = 0x0D
            case 0x74: simple = 0x09
            case 0x75:
                var scalar = try hex4(raw, i + 2, baseOffset: baseOffset)
                var consumed = 6
                if scalar >= 0xD800, scalar <= 0xDBFF {
                    // A high surrogate must be followed by \u + a low surrogate.
                    guard i + 7 < n, raw[i + 6] == 0x5C, raw[i + 7] == 0x75 else { throw .invalidString(offset: baseOffset + i) }
                    let low = try hex4(raw, i + 8, baseOffset: baseOffset)
                    guard low >= 0xDC00, low <= 0xDFFF else { throw .invalidString(offset: baseOffset + i) }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    consumed = 12
                } else if scalar >= 0xDC00, scalar <= 0xDFFF {
                    throw .invalidString(offset: baseOffset + i)
                }
                if !utf8(scalar, emit) { return false }
                i += consumed
                continue
            default:
                throw .invalidString(offset: baseOffset + i)
            }
            if !emit(simple) { return false }
            i += 2
        }
        return true
    }

    private static func hex4(_ raw: UnsafeRawBufferPointer, _ at: Int, baseOffset: Int) throws(JSONError) -> UInt32 {
        guard at + 4 <= raw.count else { throw .invalidString(offset: baseOffset + at) }
        var value: UInt32 = 0
        for k in at..<(at + 4) {
            guard let digit = Hex.value(raw[k]) else { throw .invalidString(offset: baseOffset + k) }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    private static func utf8(_ scalar: UInt32, _ emit: (UInt8) -> Bool) -> Bool {
        switch scalar {
        case 0..<0x80:
            return emit(UInt8(scalar))
        case 0x80..<0x800:
            return emit(UInt8(0xC0 | scalar >> 6)) && emit(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            return emit(UInt8(0xE0 | scalar >> 12)) && emit(UInt8(0x80 | (scalar >> 6) & 0x3F))
                && emit(UInt8(0x80 | scalar & 0x3F))
        default:
            return emit(UInt8(0xF0 | scalar >> 18)) && emit(UInt8(0x80 | (scalar >> 12) & 0x3F))
                && emit(UInt8(0x80 | (scalar >> 6) & 0x3F)) && emit(UInt8(0x80 | scalar & 0x3F))
        }
    }
}
