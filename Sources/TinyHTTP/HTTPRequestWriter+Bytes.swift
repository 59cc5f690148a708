import TinyBytes

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

    /// The size of `Content-Length: {length}` and the blank line that ends the head.
    static func contentLengthSize(_ length: Int) -> Int {
        contentLengthName.utf8CodeUnitCount + Decimal.digitCount(UInt64(length)) + 4
    }

    /// Writes `Content-Length: {length}` and the blank line (`reserve` checked the space).
    mutating func writeContentLength(_ length: Int) {
        bytes(Self.contentLengthName)
        sink.decimal(UInt64(length))
        crlf()
        crlf()
    }

    mutating func byte(_ value: UInt8) { sink.byte(value) }

    mutating func crlf() {
        byte(ASCII.cr)
        byte(ASCII.lf)
    }

    mutating func bytes(_ data: UnsafeRawBufferPointer) { sink.bytes(data) }

    mutating func bytes(_ text: StaticString) { sink.literal(text) }

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
