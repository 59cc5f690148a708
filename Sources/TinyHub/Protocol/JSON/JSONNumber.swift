import TinyBytes

/// JSON number grammar (RFC 8259 §6) and integer conversion.
enum JSONNumber {
    /// Scans `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` from `start`; returns the end.
    static func scan(_ text: UnsafeRawBufferPointer, from start: Int) throws(JSONError) -> Int {
        var i = start
        let n = text.count
        func isDigit(_ at: Int) -> Bool { at < n && text[at] >= 0x30 && text[at] <= 0x39 }
        if i < n, text[i] == 0x2D { i += 1 }
        guard isDigit(i) else { throw i >= n ? .unexpectedEnd : .invalidNumber(offset: start) }
        if text[i] == 0x30 {
            i += 1
        } else {
            while isDigit(i) { i += 1 }
        }
        if i < n, text[i] == 0x2E {
            i += 1
            guard isDigit(i) else { throw i >= n ? .unexpectedEnd : .invalidNumber(offset: start) }
            while isDigit(i) { i += 1 }
        }
        if i < n, text[i] == 0x65 || text[i] == 0x45 {
            i += 1
            if i < n, text[i] == 0x2B || text[i] == 0x2D { i += 1 }
            guard isDigit(i) else { throw i >= n ? .unexpectedEnd : .invalidNumber(offset: start) }
            while isDigit(i) { i += 1 }
        }
        return i
    }

    /// The Int64 value of a grammar-checked number's text.
    static func integer(_ text: UnsafeRawBufferPointer) throws(JSONError) -> Int64 {
        let negative = text.count > 0 && text[0] == 0x2D
        let digits = UnsafeRawBufferPointer(rebasing: text[(negative ? 1 : 0)...])
        // The magnitude of Int64.min is one more than Int64.max.
        let limit = UInt64(Int64.max) + (negative ? 1 : 0)
        do throws(Decimal.ParseError) {
            let magnitude = try Decimal.parse(digits, limit: limit)
            return negative ? Int64(bitPattern: 0 &- magnitude) : Int64(magnitude)
        } catch {
            // A fraction or an exponent is "not an integer" even when the digits overflow.
            throw error == .tooLarge ? .integerOverflow : .notAnInteger
        }
    }
}
