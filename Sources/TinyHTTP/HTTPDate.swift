import TinyBytes

/// The `Date` header's format, IMF-fixdate (RFC 9110 §5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT`.
///
/// Servers must send this form; the two obsolete forms (RFC 850, asctime) are refused.
///
/// ```swift
/// if let date = parser.header("Date"), let seconds = HTTPDate.unixSeconds(parsing: date) {
///     // the server's clock, in Unix seconds
/// }
/// ```
public enum HTTPDate {
    /// Seconds since the Unix epoch for an IMF-fixdate, or nil when `text` is not one.
    ///
    /// - Parameter text: the header value, exactly 29 bytes.
    /// - Returns: Unix seconds (UTC), or nil for any other text.
    ///
    /// ```swift
    /// HTTPDate.unixSeconds(parsing: dateHeader)   // "Sun, 06 Nov 1994 08:49:37 GMT" -> 784111777
    /// ```
    public static func unixSeconds(parsing text: UnsafeRawBufferPointer) -> Int64? {
        // "Www, DD Mmm YYYY HH:MM:SS GMT"
        guard text.count == 29, text[3] == 0x2C, text[4] == 0x20, text[7] == 0x20, text[11] == 0x20,
              text[16] == 0x20, text[19] == 0x3A, text[22] == 0x3A, text[25] == 0x20,
              text[26] == 0x47, text[27] == 0x4D, text[28] == 0x54 else { return nil }
        func number(_ at: Int, _ digits: Int) -> Int64? {
            Decimal.value(UnsafeRawBufferPointer(rebasing: text[at..<(at + digits)]), limit: 9_999).map { Int64($0) }
        }
        guard let day = number(5, 2), let year = number(12, 4), let hour = number(17, 2),
              let minute = number(20, 2), let second = number(23, 2),
              let month = monthNumber(text[8], text[9], text[10]) else { return nil }
        guard day >= 1, day <= daysIn(month: month, year: year), hour < 24, minute < 60, second < 61 else { return nil }
        return daysSinceEpoch(year: year, month: month, day: day) * 86_400 + hour * 3_600 + minute * 60 + second
    }

    private static func monthNumber(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Int64? {
        let names: StaticString = "JanFebMarAprMayJunJulAugSepOctNovDec"
        let p = names.utf8Start
        for m in 0..<12 where p[3 * m] == a && p[3 * m + 1] == b && p[3 * m + 2] == c { return Int64(m + 1) }
        return nil
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 to the given civil date (proleptic Gregorian calendar; the
    /// era-based algorithm from Howard Hinnant's "chrono-compatible low-level date algorithms").
    private static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = y / 400                                  // years 0...9999: never negative
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
