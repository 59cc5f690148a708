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
        var i = 0
        let negative = text.count > 0 && text[0] == 0x2D
        if negative { i = 1 }
        guard i < text.count else { throw .notAnInteger }
        var value: Int64 = 0 // accumulated negatively so Int64.min fits
        while i < text.count {
            let byte = text[i]
            guard byte >= 0x30, byte <= 0x39 else { throw .notAnInteger }
            let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = shifted.subtractingReportingOverflow(Int64(byte - 0x30))
            if o1 || o2 {
                // Keep checking the rest: a fraction or exponent makes it "not an integer".
                while i < text.count {
                    if text[i] < 0x30 || text[i] > 0x39 { throw .notAnInteger }
                    i += 1
                }
                throw .integerOverflow
            }
            value = next
            i += 1
        }
        if negative { return value }
        guard value != Int64.min else { throw .integerOverflow }
        return -value
    }
}
