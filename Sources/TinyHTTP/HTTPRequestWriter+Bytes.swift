/// Low-level writes and validation for `HTTPRequestWriter`. The writes run only after
/// `reserve` checked the space.
extension HTTPRequestWriter {
    static let contentLengthName: StaticString = "Content-Length: "
    static let versionAndHost: StaticString = " HTTP/1.1\r\nHost: "

    /// Throws unless `count` more bytes fit.
    func reserve(_ count: Int) throws(HTTPEncodeError) {
        let (needed, overflow) = length.addingReportingOverflow(count)
        guard !overflow, needed <= buffer.count else { throw .bufferTooSmall(needed: overflow ? Int.max : needed) }
    }

    static func endTargetSize(host: UnsafeRawBufferPointer) -> Int {
        versionAndHost.utf8CodeUnitCount + host.count + 2
    }

    mutating func writeEndTarget(host: UnsafeRawBufferPointer) {
        bytes(Self.versionAndHost)
        bytes(host)
        crlf()
    }

    mutating func writeContentLength(_ digits: UnsafeRawBufferPointer) {
        bytes(Self.contentLengthName)
        bytes(digits)
        crlf()
        crlf()
    }

    mutating func byte(_ value: UInt8) {
        buffer[length] = value
        length += 1
    }

    mutating func crlf() {
        byte(ASCII.cr)
        byte(ASCII.lf)
    }

    mutating func bytes(_ data: UnsafeRawBufferPointer) {
        guard data.count > 0 else { return }
        UnsafeMutableRawBufferPointer(rebasing: buffer[length..<(length + data.count)]).copyMemory(from: data)
        length += data.count
    }

    mutating func bytes(_ text: StaticString) {
        text.withUTF8Buffer { utf8 in bytes(UnsafeRawBufferPointer(utf8)) }
    }

    /// Request-target and host bytes: visible ASCII and obs-text; no SP, no controls.
    static func isTargetBytes(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for b in bytes where b <= 0x20 || b == 0x7F { return false }
        return true
    }

    static func isValueBytes(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for b in bytes where !ASCII.isFieldValueByte(b) { return false }
        return true
    }

    static func checkName(_ name: UnsafeRawBufferPointer) throws(HTTPEncodeError) {
        guard !name.isEmpty else { throw .invalidHeaderName }
        for b in name where !ASCII.isTokenChar(b) { throw .invalidHeaderName }
        let reserved = HeaderName.host.withBytes { ASCII.equalsIgnoringCase(name, $0) }
            || HeaderName.contentLength.withBytes { ASCII.equalsIgnoringCase(name, $0) }
        guard !reserved else { throw .reservedHeader }
    }

    /// Writes `value` in decimal (with `-` if negative) into `storage`; returns the length.
    /// The package's one integer-to-text formatter for HTTP and the proxy's `host:port`.
    package static func decimal(_ value: Int, into storage: inout (UInt64, UInt64, UInt64)) -> Int {
        withUnsafeMutableBytes(of: &storage) { raw in
            var v = UInt(value.magnitude)
            var count = 0
            repeat {
                raw[count] = UInt8(truncatingIfNeeded: 0x30 + v % 10)
                v /= 10
                count += 1
            } while v > 0
            if value < 0 {
                raw[count] = 0x2D
                count += 1
            }
            var lo = 0, hi = count - 1
            while lo < hi {
                let t = raw[lo]; raw[lo] = raw[hi]; raw[hi] = t
                lo += 1; hi -= 1
            }
            return count
        }
    }
}

/// Header names TinyHTTP treats specially.
enum HeaderName {
    static let host: StaticString = "Host"
    static let contentLength: StaticString = "Content-Length"
    static let transferEncoding: StaticString = "Transfer-Encoding"
    static let connection: StaticString = "Connection"
    static let retryAfter: StaticString = "Retry-After"
    static let etag: StaticString = "ETag"
    static let chunked: StaticString = "chunked"
    static let close: StaticString = "close"
    static let keepAlive: StaticString = "keep-alive"
}
