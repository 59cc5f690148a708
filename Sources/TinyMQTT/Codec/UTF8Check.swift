/// UTF-8 validation for MQTT strings without Unicode tables (§1.5.3): rejects overlong
/// forms, surrogates (U+D800...U+DFFF), code points past U+10FFFF, truncated sequences
/// and U+0000.
public enum UTF8Check {
    /// Throws `invalidUTF8` or `nullCharacter` if `text` is not an acceptable MQTT string.
    ///
    /// - Parameter text: the string's bytes.
    /// - Throws: `MQTTCodecError.invalidUTF8` or `.nullCharacter`.
    public static func validate(_ text: UnsafeRawBufferPointer) throws(MQTTCodecError) {
        let n = text.count
        var i = 0
        // Fast path: skip whole 8-byte words of ASCII without NUL; the byte loop below
        // re-checks from the first word that has anything else in it.
        if let base = text.baseAddress {
            while n - i >= 8, isPlainWord(base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { i += 8 }
        }
        while i < n {
            let lead = text[i]
            if lead < 0x80 {
                if lead == 0 { throw .nullCharacter }
                i += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF // allowed range of the second byte
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0              // no overlong 3-byte forms
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F             // no surrogates
            case 0xF0: length = 4; low = 0x90              // no overlong 4-byte forms
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F             // nothing above U+10FFFF
            default: throw .invalidUTF8                    // 0x80...0xC1, 0xF5...0xFF
            }
            guard i + length <= n else { throw .invalidUTF8 }
            let second = text[i + 1]
            guard second >= low, second <= high else { throw .invalidUTF8 }
            var k = 2
            while k < length {
                guard text[i + k] & 0xC0 == 0x80 else { throw .invalidUTF8 }
                k += 1
            }
            i += length
        }
    }

    /// Whether `text` is a non-empty topic name of plain ASCII: every byte in 0x01...0x7F
    /// and none of the wildcards `+` and `#`. Such a name passes `validate` and the topic
    /// name checks (§4.7.1, §4.7.3); anything else needs the exact byte-by-byte checks for
    /// its error. One pass, eight bytes at a time.
    static func isPlainTopicName(_ text: UnsafeRawBufferPointer) -> Bool {
        guard let base = text.baseAddress, text.count > 0 else { return false }
        let n = text.count
        if n < 8 {
            var i = 0
            while i < n {
                let byte = base.load(fromByteOffset: i, as: UInt8.self)
                if byte &- 1 >= 0x7F || byte == 0x2B || byte == 0x23 { return false }
                i += 1
            }
            return true
        }
        var i = 0
        while true {
            guard isPlainTopicWord(base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) else { return false }
            i += 8
            if i >= n { return true }
            if i > n - 8 { i = n - 8 } // the last word overlaps the one before
        }
    }

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// Whether all eight bytes of `word` are in 0x01...0x7F.
    @inline(__always)
    private static func isPlainWord(_ word: UInt64) -> Bool {
        (word | ((word &- ones) & ~word)) & highBits == 0
    }

    /// Whether all eight bytes of `word` are in 0x01...0x7F and none is `+` or `#`, with
    /// one branch. Once no byte has its high bit set (the `word` term), subtracting 0x01
    /// from each byte sets a high bit exactly where a byte was 0x00: borrows only start at
    /// a zero byte. XOR with `+`/`#` in every byte turns those bytes into 0x00.
    @inline(__always)
    private static func isPlainTopicWord(_ word: UInt64) -> Bool {
        let plus = word ^ 0x2B2B_2B2B_2B2B_2B2B, hash = word ^ 0x2323_2323_2323_2323
        return (word | (word &- ones) | (plus &- ones) | (hash &- ones)) & highBits == 0
    }
}
