/// Which property names and values may travel as HTTP headers. IoT Hub maps application
/// properties to `iothub-app-{name}` headers; RFC 9110 allows a token as name and a
/// field value as value. TinyHub is stricter on values than RFC 9110: it also refuses
/// non-ASCII (obs-text, which IoT Hub does not accept) and leading/trailing whitespace
/// (which HTTP strips, so the hub would see another value).
enum HeaderSafety {
    /// The longest application property name (`iothub-app-` + name is built on the stack).
    static let maxPropertyNameLength = 245

    /// RFC 9110 §5.6.2 `tchar`.
    static func isTokenChar(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: return true
        default: return false
        }
    }

    /// A non-empty token.
    static func isToken(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count > 0 else { return false }
        for byte in bytes where !isTokenChar(byte) { return false }
        return true
    }

    /// Printable ASCII, SP and HTAB inside, no whitespace at either end (may be empty).
    static func isSafeValue(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for byte in bytes where !(byte == 0x09 || (byte >= 0x20 && byte < 0x7F)) { return false }
        if let first = bytes.first, first == 0x20 || first == 0x09 { return false }
        if let last = bytes.last, last == 0x20 || last == 0x09 { return false }
        return true
    }

    /// Checks every application property; throws naming the first bad one.
    static func check(_ properties: UnsafeBufferPointer<MessageProperty>) throws(HubError) {
        var index = 0
        for property in properties {
            guard isToken(property.name), property.name.count <= maxPropertyNameLength else {
                throw .invalidPropertyName(index: index)
            }
            guard isSafeValue(property.value) else { throw .invalidPropertyValue(index: index) }
            index += 1
        }
    }

    /// Checks every system property value.
    static func check(_ system: TelemetrySystemProperties) throws(HubError) {
        try system.forEach { (_, value) throws(HubError) in
            if !isSafeValue(value) { throw .invalidSystemProperty }
        }
    }
}
