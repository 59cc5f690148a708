/// The package's one decimal formatter and one decimal parser (ASCII digits, no locale).
package enum Decimal {
    /// The most bytes a formatted 64-bit integer takes: 20 (`UInt64.max`, or `-` and the 19
    /// digits of `Int64.min`).
    package static let maxLength = 20

    /// The number of decimal digits of `value` (1 for 0).
    ///
    /// - Parameter value: the value.
    /// - Returns: 1...20.
    package static func digitCount(_ value: UInt64) -> Int {
        var digits = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        return digits
    }

    /// Calls `body` with the decimal text of `value` (`-` first when negative), formatted on the stack.
    ///
    /// - Parameters:
    ///   - value: the value.
    ///   - body: receives the text, valid only during the call.
    /// - Throws: what `body` throws.
    package static func withText<R, E: Error>(_ value: Int64, _ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        var storage = InlineArray<20, UInt8>(repeating: 0)
        var span = storage.mutableSpan
        let count = span.withUnsafeMutableBytes { raw -> Int in
            var sink = ByteSink(raw)
            sink.decimal(value)
            return sink.count
        }
        return try storage.span.withUnsafeBytes { (raw) throws(E) -> R in
            try body(UnsafeRawBufferPointer(rebasing: raw[0..<count]))
        }
    }

    /// Why `parse` refused a text.
    package enum ParseError: Error, Equatable {
        /// The text is empty or holds a byte other than `0`...`9` (no sign, no spaces).
        case notDecimal
        /// Every byte is a digit but the value exceeds the limit.
        case tooLarge
    }

    /// Parses all of `text` as an unsigned decimal: one or more ASCII digits, leading zeros
    /// allowed, no sign, no spaces. Safe on hostile input: never overflows, never traps, reads
    /// each byte once (an over-long run of digits is `tooLarge`, found without arithmetic
    /// past the limit).
    ///
    /// - Parameters:
    ///   - text: the digits (caller-owned).
    ///   - limit: the largest value accepted.
    /// - Returns: the value, at most `limit`.
    /// - Throws: `notDecimal` if `text` is empty or any byte is not a digit (checked over the
    ///   whole text, so it wins over `tooLarge`); `tooLarge` when the value exceeds `limit`.
    package static func parse(_ text: UnsafeRawBufferPointer, limit: UInt64) throws(ParseError) -> UInt64 {
        guard text.count > 0 else { throw .notDecimal }
        var value: UInt64 = 0
        var tooLarge = false
        for byte in text {
            let digit = byte &- 0x30
            guard digit < 10 else { throw .notDecimal }
            if !tooLarge {
                // value * 10 + digit <= limit, without overflow (also for limits below 9).
                if value > limit / 10 || (value == limit / 10 && UInt64(digit) > limit % 10) {
                    tooLarge = true
                } else {
                    value = value * 10 + UInt64(digit)
                }
            }
        }
        if tooLarge { throw .tooLarge }
        return value
    }

    /// `parse` without the reason: the value, or nil when `text` is not a decimal of at most `limit`.
    ///
    /// - Parameters:
    ///   - text: the digits (caller-owned).
    ///   - limit: the largest value accepted.
    /// - Returns: the value, or nil.
    package static func value(_ text: UnsafeRawBufferPointer, limit: UInt64) -> UInt64? {
        do throws(ParseError) { return try parse(text, limit: limit) } catch { return nil }
    }
}

extension ByteSink {
    /// Appends the decimal digits of `value` (no sign, no leading zeros).
    ///
    /// - Parameter value: the value.
    package mutating func decimal(_ value: UInt64) {
        let end = count + Decimal.digitCount(value)
        if end <= buffer.count {
            // From the last digit back: one division by a constant (a multiplication) per digit.
            var rest = value
            var index = end
            repeat {
                index -= 1
                buffer[index] = 0x30 &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            } while rest > 0
        }
        count = end
    }

    /// Appends `value` in decimal, with `-` when negative (`Int64.min` included).
    ///
    /// - Parameter value: the value.
    package mutating func decimal(_ value: Int64) {
        if value < 0 { byte(0x2D) }
        decimal(value.magnitude)
    }
}
