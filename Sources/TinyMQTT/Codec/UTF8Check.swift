/// UTF-8 validation for MQTT strings without Unicode tables (§1.5.3): rejects overlong
/// forms, surrogates (U+D800...U+DFFF), code points past U+10FFFF, truncated sequences
/// and U+0000.
public enum UTF8Check {
    /// Throws `invalidUTF8` or `nullCharacter` if `text` is not an acceptable MQTT string.
    public static func validate(_ text: UnsafeRawBufferPointer) throws(MQTTCodecError) {
        var i = 0
        let n = text.count
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
}
