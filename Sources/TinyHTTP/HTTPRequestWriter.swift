import TinyBytes

/// Writes an HTTP/1.1 request into a caller-owned buffer, piece by piece, without
/// allocating:
///
///     var w = HTTPRequestWriter(buffer: tx)
///     try w.start(method: .post, path: path, host: host)
///     try w.header(name: "Content-Type", value: "application/octet-stream")
///     let length = try w.finish(body: payload)
///
/// Every call validates its input (no CR, LF, NUL or other control bytes: no header
/// injection) and checks the space it needs before writing, so a call that throws writes
/// nothing. `Host` is written by `start`/`endTarget`; `Content-Length` by `finish`.
public struct HTTPRequestWriter {
    /// The bytes written so far, in the caller's buffer: every write checks its space with
    /// `reserve` first, so the sink never overflows.
    var sink: ByteSink
    /// The buffer the request is written into.
    public var buffer: UnsafeMutableRawBufferPointer { sink.buffer }
    /// Bytes written so far; after `finish`, the request's length.
    public var length: Int { sink.count }

    private enum Stage: UInt8 { case empty, target, headers, headerValue, finished }
    private var stage = Stage.empty
    private var targetLength = 0

    /// A writer that writes from the start of `buffer`.
    ///
    /// - Parameter buffer: where the request goes (caller-owned; must outlive the writer).
    public init(buffer: UnsafeMutableRawBufferPointer) {
        sink = ByteSink(buffer)
    }

    /// Forgets everything written, to write a new request into the same buffer.
    public mutating func reset() {
        sink.truncate(to: 0)
        stage = .empty
        targetLength = 0
    }

    // MARK: Request line

    /// Writes `METHOD path HTTP/1.1` and the `Host` header. `path` is the request target
    /// (path and query) exactly as it goes on the wire: percent-encode it beforehand.
    ///
    /// - Parameters:
    ///   - method: the request method.
    ///   - path: the request target, percent-encoded.
    ///   - host: the `Host` value.
    /// - Throws: `HTTPEncodeError`: `outOfOrder` after another start, `invalidPath`/`invalidHost` for bytes a request line cannot carry, `bufferTooSmall` (nothing written).
    public mutating func start(method: HTTPMethod, path: UnsafeRawBufferPointer,
                               host: UnsafeRawBufferPointer) throws(HTTPEncodeError) {
        guard stage == .empty else { throw .outOfOrder }
        guard !path.isEmpty, Self.isTargetBytes(path) else { throw .invalidPath }
        guard !host.isEmpty, Self.isTargetBytes(host) else { throw .invalidHost }
        let size = method.token.utf8CodeUnitCount + 1 + path.count + Self.endTargetSize(host: host)
        try reserve(size)
        bytes(method.token)
        byte(ASCII.sp)
        bytes(path)
        writeEndTarget(host: host)
        stage = .headers
    }

    /// Starts the request line with `METHOD ` for a target written in pieces with
    /// `appendTarget`, then `endTarget(host:)`.
    ///
    /// - Parameter method: the request method.
    /// - Throws: `HTTPEncodeError`: `outOfOrder` after another start, `bufferTooSmall` (nothing written).
    public mutating func beginTarget(method: HTTPMethod) throws(HTTPEncodeError) {
        guard stage == .empty else { throw .outOfOrder }
        try reserve(method.token.utf8CodeUnitCount + 1)
        bytes(method.token)
        byte(ASCII.sp)
        targetLength = 0
        stage = .target
    }

    /// Appends bytes to the request target (already percent-encoded).
    ///
    /// - Parameter part: target bytes, already percent-encoded.
    /// - Throws: `HTTPEncodeError`: `outOfOrder` outside a target, `invalidPath` for bytes a target cannot carry, `bufferTooSmall` (nothing written).
    public mutating func appendTarget(_ part: UnsafeRawBufferPointer) throws(HTTPEncodeError) {
        guard stage == .target else { throw .outOfOrder }
        guard Self.isTargetBytes(part) else { throw .invalidPath }
        try reserve(part.count)
        bytes(part)
        targetLength += part.count
    }

    /// Appends `bytes` percent-encoded (RFC 3986 unreserved bytes kept, `%XX` for the rest) to
    /// the request target begun with `beginTarget`: IoT Hub device ids may hold `# ? % + $`.
    ///
    /// - Parameter part: the raw bytes (an id, a lock token).
    /// - Throws: `outOfOrder` outside a target, `bufferTooSmall` when it does not fit (nothing written).
    package mutating func appendPercentEncodedTarget(_ part: UnsafeRawBufferPointer) throws(HTTPEncodeError) {
        guard stage == .target else { throw .outOfOrder }
        let encoded = PercentEncoding.encodedLength(part)
        try reserve(encoded)
        sink.percentEncoded(part) // only unreserved bytes and `%XX`: valid target bytes
        targetLength += encoded
    }

    /// Appends a constant to the request target.
    ///
    /// - Parameter part: target bytes, already percent-encoded.
    /// - Throws: `HTTPEncodeError`: as `appendTarget(_:)` with bytes.
    public mutating func appendTarget(_ part: StaticString) throws(HTTPEncodeError) {
        try part.withBytes { (bytes) throws(HTTPEncodeError) in try appendTarget(bytes) }
    }

    /// Ends the request line with ` HTTP/1.1` and writes the `Host` header.
    ///
    /// - Parameter host: the `Host` value.
    /// - Throws: `HTTPEncodeError`: `outOfOrder` outside a target, `invalidPath` for an empty target, `invalidHost`, `bufferTooSmall` (nothing written).
    public mutating func endTarget(host: UnsafeRawBufferPointer) throws(HTTPEncodeError) {
        guard stage == .target else { throw .outOfOrder }
        guard targetLength > 0 else { throw .invalidPath }
        guard !host.isEmpty, Self.isTargetBytes(host) else { throw .invalidHost }
        try reserve(Self.endTargetSize(host: host))
        writeEndTarget(host: host)
        stage = .headers
    }

    // MARK: Headers

    /// Writes `name: value`. The name must be a token; the value must not contain CR, LF,
    /// NUL or other control bytes except HTAB. `Host` and `Content-Length` are refused.
    ///
    /// - Parameters:
    ///   - name: the header name (a token).
    ///   - value: the header value.
    /// - Throws: `HTTPEncodeError`: `outOfOrder` before the request line or after `finish`, `invalidHeaderName`/`invalidHeaderValue`, `reservedHeader` (`Host`, `Content-Length`), `bufferTooSmall` (nothing written).
    public mutating func header(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws(HTTPEncodeError) {
        guard stage == .headers else { throw .outOfOrder }
        try Self.checkName(name)
        guard Self.isValueBytes(value) else { throw .invalidHeaderValue }
        try reserve(name.count + 2 + value.count + 2)
        bytes(name)
        byte(ASCII.colon)
        byte(ASCII.sp)
        bytes(value)
        crlf()
    }

    /// Writes `name: value` with a constant name.
    ///
    /// - Parameters:
    ///   - name: the header name (a token).
    ///   - value: the header value.
    /// - Throws: `HTTPEncodeError`: as `header(name:value:)` with bytes.
    public mutating func header(name: StaticString, value: UnsafeRawBufferPointer) throws(HTTPEncodeError) {
        try name.withBytes { (n) throws(HTTPEncodeError) in try header(name: n, value: value) }
    }

    /// Writes `name: value` with a constant name and value.
    ///
    /// - Parameters:
    ///   - name: the header name (a token).
    ///   - value: the header value.
    /// - Throws: `HTTPEncodeError`: as `header(name:value:)` with bytes.
    public mutating func header(name: StaticString, value: StaticString) throws(HTTPEncodeError) {
        try value.withBytes { (v) throws(HTTPEncodeError) in try header(name: name, value: v) }
    }

    /// Writes `name: value` with a decimal value.
    ///
    /// - Parameters:
    ///   - name: the header name (a token).
    ///   - value: the value, written in decimal.
    /// - Throws: `HTTPEncodeError`: as `header(name:value:)` with bytes.
    public mutating func header(name: StaticString, value: Int) throws(HTTPEncodeError) {
        try Decimal.withText(Int64(value)) { (digits) throws(HTTPEncodeError) in try header(name: name, value: digits) }
    }

    /// Starts a header whose value is written in pieces with `appendValue`, then `endHeader`.
    ///
    /// - Parameter name: the header name (a token).
    /// - Throws: `HTTPEncodeError`: `outOfOrder` outside the header block, `invalidHeaderName`, `bufferTooSmall` (nothing written).
    public mutating func beginHeader(name: UnsafeRawBufferPointer) throws(HTTPEncodeError) {
        guard stage == .headers else { throw .outOfOrder }
        try Self.checkName(name)
        try reserve(name.count + 2)
        bytes(name)
        byte(ASCII.colon)
        byte(ASCII.sp)
        stage = .headerValue
    }

    /// Starts a header with a constant name whose value is written in pieces.
    ///
    /// - Parameter name: the header name (a token).
    /// - Throws: `HTTPEncodeError`: as `beginHeader(name:)` with bytes.
    public mutating func beginHeader(name: StaticString) throws(HTTPEncodeError) {
        try name.withBytes { (n) throws(HTTPEncodeError) in try beginHeader(name: n) }
    }

    /// Appends bytes to the value of the header begun with `beginHeader`.
    ///
    /// - Parameter part: the next bytes of the value.
    /// - Throws: `HTTPEncodeError`: `outOfOrder` outside a header begun with `beginHeader`, `invalidHeaderValue`, `bufferTooSmall` (nothing written).
    public mutating func appendValue(_ part: UnsafeRawBufferPointer) throws(HTTPEncodeError) {
        guard stage == .headerValue else { throw .outOfOrder }
        guard Self.isValueBytes(part) else { throw .invalidHeaderValue }
        try reserve(part.count)
        bytes(part)
    }

    /// Appends a constant to the value of the header begun with `beginHeader`.
    ///
    /// - Parameter part: the next bytes of the value.
    /// - Throws: `HTTPEncodeError`: as `appendValue(_:)` with bytes.
    public mutating func appendValue(_ part: StaticString) throws(HTTPEncodeError) {
        try part.withBytes { (bytes) throws(HTTPEncodeError) in try appendValue(bytes) }
    }

    /// Ends the header begun with `beginHeader`.
    ///
    /// - Throws: `HTTPEncodeError`: `outOfOrder` outside a header begun with `beginHeader`, `bufferTooSmall` (nothing written).
    public mutating func endHeader() throws(HTTPEncodeError) {
        guard stage == .headerValue else { throw .outOfOrder }
        try reserve(2)
        crlf()
        stage = .headers
    }

    // MARK: Finishing

    /// Ends the header block of a request without a body (no `Content-Length`).
    /// Returns the request's length.
    ///
    /// - Returns: the request's length.
    /// - Throws: `HTTPEncodeError`: `outOfOrder` before the request line, inside a header or after `finish`, `bufferTooSmall` (nothing written).
    public mutating func finish() throws(HTTPEncodeError) -> Int {
        guard stage == .headers else { throw .outOfOrder }
        try reserve(2)
        // The end is computed before the last write, not read back after it: Swift 6.3.1's
        // optimizer (EarlyCodeMotion) once sank a shared trailing `crlf()` below the read of
        // `length` in a caller with two `finish` branches, making the request 2 bytes short.
        let end = length + 2
        crlf()
        stage = .finished
        return end
    }

    /// Writes `Content-Length`, ends the header block and copies `body` after it.
    /// Returns the request's length.
    ///
    /// - Parameter body: the request body, copied after the head.
    /// - Returns: the request's length.
    /// - Throws: `HTTPEncodeError`: as `finish()`.
    public mutating func finish(body: UnsafeRawBufferPointer) throws(HTTPEncodeError) -> Int {
        guard stage == .headers else { throw .outOfOrder }
        try reserve(Self.contentLengthSize(body.count) + body.count)
        let end = length + Self.contentLengthSize(body.count) + body.count   // see finish()
        writeContentLength(body.count)
        bytes(body)
        stage = .finished
        return end
    }

    /// Writes `Content-Length: contentLength` and ends the header block; the caller sends
    /// the body separately (or writes it at `buffer[length...]`). Returns the head's length.
    ///
    /// - Parameter contentLength: the length of the body sent separately.
    /// - Returns: the head's length.
    /// - Throws: `HTTPEncodeError`: as `finish()`.
    public mutating func finish(contentLength: Int) throws(HTTPEncodeError) -> Int {
        guard stage == .headers else { throw .outOfOrder }
        guard contentLength >= 0 else { throw .invalidContentLength }
        try reserve(Self.contentLengthSize(contentLength))
        let end = length + Self.contentLengthSize(contentLength)   // see finish()
        writeContentLength(contentLength)
        stage = .finished
        return end
    }
}
