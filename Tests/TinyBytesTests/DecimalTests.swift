import Testing
import TinyBytes

@Suite struct DecimalTests {
    @Test(arguments: [(Int64(0), "0"), (7, "7"), (10, "10"), (-1, "-1"), (1_000_000, "1000000"),
                      (Int64.max, "9223372036854775807"), (Int64.min, "-9223372036854775808")])
    func formatsSigned(value: Int64, expected: String) {
        #expect(sink(32) { $0.decimal(value) }.text == expected)
        #expect(Decimal.withText(value) { text($0) } == expected)
    }

    @Test func formatsUnsignedExtremes() {
        #expect(sink(32) { $0.decimal(UInt64.max) }.text == "18446744073709551615")
        #expect(sink(32) { $0.decimal(UInt64(9)) }.text == "9")
        var power: UInt64 = 1
        for digits in 1...20 {
            #expect(Decimal.digitCount(power) == digits)
            #expect(Decimal.digitCount(power - 1) == max(1, digits - 1))
            if digits < 20 { power *= 10 }
        }
    }

    @Test func formatterOverflowWritesNothingAndCounts() {
        let result = sink(3) { $0.byte(0x78); $0.decimal(UInt64(12345)) }
        #expect(result.count == 6 && result.overflowed)
        #expect(result.raw == [0x78, 0xAA, 0xAA], "digits that do not all fit are not written")
    }

    @Test(arguments: [("0", UInt64(0)), ("007", 7), ("4294967295", 4_294_967_295), ("18446744073709551615", UInt64.max)])
    func parses(text: String, expected: UInt64) throws {
        #expect(try withBytes(text) { try Decimal.parse($0, limit: UInt64.max) } == expected)
    }

    @Test func parserLimitsAndReasons() {
        withBytes("1000") { digits in
            #expect(Decimal.value(digits, limit: 1000) == 1000)
            #expect(throws: Decimal.ParseError.tooLarge) { try Decimal.parse(digits, limit: 999) }
        }
        // Limits below 9 (found by the example-args fuzz target: it trapped).
        for (digits, limit, expected) in [("0", UInt64(0), UInt64?(0)), ("1", 0, nil), ("9", 5, nil), ("5", 5, 5), ("05", 5, 5), ("10", 9, nil)] {
            withBytes(digits) { #expect(Decimal.value($0, limit: limit) == expected, "\(digits) <= \(limit)") }
        }
        for bad in ["", "-1", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "١"] {
            withBytes(bad) { text in
                #expect(throws: Decimal.ParseError.notDecimal, "\(bad)") { try Decimal.parse(text, limit: .max) }
            }
        }
        // 30 digits: too large for UInt64, no arithmetic overflow; a non-digit after them still wins.
        withBytes(String(repeating: "9", count: 30)) { text in
            #expect(throws: Decimal.ParseError.tooLarge) { try Decimal.parse(text, limit: .max) }
        }
        withBytes(String(repeating: "9", count: 30) + "x") { text in
            #expect(throws: Decimal.ParseError.notDecimal) { try Decimal.parse(text, limit: .max) }
        }
    }

    @Test func hostileLongInputIsLinearAndSafe() {
        let long = [UInt8](repeating: 0x35, count: 1 << 20)
        long.withUnsafeBytes { text in
            #expect(Decimal.value(text, limit: .max) == nil)
        }
    }
}
