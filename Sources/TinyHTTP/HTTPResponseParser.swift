/// An incremental HTTP/1.1 (and 1.0) response parser over caller-owned buffers.
///
/// Feed it bytes as they arrive, in pieces of any size down to one byte:
///
///     var parser = HTTPResponseParser(headerBuffer: hb, bodyBuffer: bb)
///     while !parser.isComplete {
///         let n = try transport.receive(into: rx)            // 0 = peer closed
///         if n == 0 { try parser.connectionClosed(); break }
///         let used = try parser.feed(UnsafeRawBufferPointer(rebasing: rx[0..<n]))
///         // rx[used..<n] belongs to the next (pipelined) response: reset(), then feed it
///     }
///     let body = try parser.body()                           // or .bodyTooLarge(totalBytes:)
///
/// Choices (RFC 9112):
/// - Lines end in CRLF; a bare LF is accepted as a line end (§2.2), a bare CR is an error.
/// - Obsolete line folding (§5.2) is *tolerated*: as §5.2 requires of a user agent, each
///   fold is replaced by one SP, so a folded value reads as one line.
/// - Framing (§6.3): no body for HEAD, 1xx, 204 and 304; `Transfer-Encoding: chunked`
///   (the only coding accepted) else `Content-Length` (identical repeats accepted, §8.6 of
///   RFC 9110; differing ones rejected; both headers rejected); otherwise the body runs
///   until the peer closes (`connectionClosed()`), and the connection is not reusable.
/// - Chunk extensions are ignored; trailer lines are skipped (bounded like header lines).
/// - A 1xx response is reported as a complete, body-less response: `reset` and keep feeding.
///
/// Memory is the two caller buffers plus this fixed-size value. A body longer than the
/// body buffer is drained (counted and discarded), so the connection stays usable.
public struct HTTPResponseParser {
    /// Where the status reason and the headers are stored. Its size is the header-block limit.
    public let headerBuffer: UnsafeMutableRawBufferPointer
    /// Where body bytes are written.
    public let bodyBuffer: UnsafeMutableRawBufferPointer
    /// Most header lines accepted (trailer lines are counted against it separately).
    public let maxHeaderCount: Int
    /// Longest status, header (after unfolding), trailer or chunk-size line accepted, in bytes.
    public let maxLineLength: Int

    /// Largest `Content-Length` or chunk size accepted (2^31 - 1).
    public static let maxLength = 0x7FFF_FFFF

    enum Phase: UInt8 {
        case statusLine, headerLine
        case fixedBody, untilClose
        case chunkSize, chunkSizeTail, chunkExtension, chunkData, chunkDataEnd, trailer
        case complete
    }

    enum Framing: UInt8 { case none, fixed, chunked, untilClose }

    var phase = Phase.statusLine
    var failure: HTTPParseError? = nil
    var headRequest = false
    var pendingCR = false
    var lineLength = 0
    /// End of the compact storage in `headerBuffer`; a line being read sits at `storeEnd + 4`.
    var storeEnd = 0
    var headersStart = 0
    var lastEntry = -1
    var headerCount = 0
    var trailerCount = 0
    var framing = Framing.none
    var remaining = 0
    var chunkDigits = 0
    var bodyStored = 0
    var closeToken = false
    var keepAliveToken = false

    /// The status code (100...599), or 0 until the status line is parsed.
    public internal(set) var statusCode = 0
    /// 0 for HTTP/1.0, 1 for HTTP/1.1 (valid once `statusCode` is set).
    public internal(set) var minorVersion = 1
    /// The `Content-Length` value, if the response had one.
    public internal(set) var contentLength: Int? = nil
    /// Body bytes received so far, including drained ones.
    public internal(set) var bodyLength = 0

    /// A parser storing headers in `headerBuffer` and the body in `bodyBuffer`.
    /// `maxLineLength` is clamped to 1...65,535.
    ///
    /// - Parameters:
    ///   - headerBuffer: where the status line and headers are kept.
    ///   - bodyBuffer: where the body is kept.
    ///   - maxHeaderCount: the most headers kept (more: `tooManyHeaders`).
    ///   - maxLineLength: the longest status or header line accepted.
    public init(headerBuffer: UnsafeMutableRawBufferPointer, bodyBuffer: UnsafeMutableRawBufferPointer,
                maxHeaderCount: Int = 32, maxLineLength: Int = 4096) {
        self.headerBuffer = headerBuffer
        self.bodyBuffer = bodyBuffer
        self.maxHeaderCount = max(0, maxHeaderCount)
        self.maxLineLength = min(max(1, maxLineLength), 65_535)
    }

    /// Prepares for the next response on the same connection. Pass `headRequest: true` when
    /// it answers a HEAD request (it then has no body whatever its headers say).
    ///
    /// - Parameter headRequest: whether the next response answers a HEAD request.
    public mutating func reset(headRequest: Bool = false) {
        self = HTTPResponseParser(headerBuffer: headerBuffer, bodyBuffer: bodyBuffer,
                                  maxHeaderCount: maxHeaderCount, maxLineLength: maxLineLength)
        self.headRequest = headRequest
    }

    /// Parses `bytes`, stopping at the end of the response. Returns how many bytes were
    /// used; the rest belong to the next response. Throws on malformed input (and keeps
    /// throwing that error until `reset`), or `dataAfterEnd` if fed after completion.
    ///
    /// - Parameter bytes: the next bytes read from the connection.
    /// - Returns: how many of them belong to this response.
    /// - Throws: `HTTPParseError` for malformed input, and `dataAfterEnd` after completion.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> Int {
        if let failure { throw failure }
        if phase == .complete {
            guard bytes.isEmpty else {
                failure = .dataAfterEnd
                throw .dataAfterEnd
            }
            return 0
        }
        var i = 0
        do throws(HTTPParseError) {
            while i < bytes.count, phase != .complete {
                switch phase {
                case .fixedBody, .chunkData:
                    let n = min(remaining, bytes.count - i)
                    takeBody(bytes, from: i, count: n)
                    i += n
                    remaining -= n
                    if remaining == 0 { phase = phase == .fixedBody ? .complete : .chunkDataEnd }
                case .untilClose:
                    let n = bytes.count - i
                    guard bodyLength <= Int.max - n else { throw HTTPParseError.invalidContentLength }
                    takeBody(bytes, from: i, count: n)
                    i += n
                default:
                    try step(bytes[i])
                    i += 1
                }
            }
        } catch {
            failure = error
            throw error
        }
        return i
    }

    /// Tells the parser the peer closed the connection. Completes a body that runs until
    /// close; otherwise throws `truncated` unless the response was already complete.
    ///
    /// - Throws: `HTTPParseError.truncated` when the response was cut short (or the earlier parse error).
    public mutating func connectionClosed() throws(HTTPParseError) {
        if let failure { throw failure }
        switch phase {
        case .complete: return
        case .untilClose: phase = .complete
        default:
            failure = .truncated
            throw .truncated
        }
    }

    /// True once the whole response (headers and body) has been parsed.
    public var isComplete: Bool { phase == .complete }

    /// True once the header block has been parsed (status and headers are available).
    public var headersComplete: Bool {
        switch phase {
        case .statusLine, .headerLine: return false
        default: return true
        }
    }

    /// True for a 1xx response: the final response follows on the same connection.
    public var isInterim: Bool { statusCode >= 100 && statusCode < 200 }

    /// True if another request may be sent on this connection: the response is complete,
    /// error-free, framed by length (not by close), and neither `Connection: close` nor an
    /// HTTP/1.0 response without `Connection: keep-alive`.
    public var connectionReusable: Bool {
        guard phase == .complete, failure == nil, framing != .untilClose, statusCode != 101 else { return false }
        if closeToken { return false }
        return minorVersion >= 1 || keepAliveToken
    }

    /// True if the body is `Transfer-Encoding: chunked`.
    public var isChunked: Bool { framing == .chunked }

    /// The body. Throws `incomplete` before the response is complete, the parse error if
    /// it failed, and `bodyTooLarge(totalBytes:)` if it was longer than the body buffer (the
    /// first `bodyBuffer.count` bytes are then in `bodyPrefix`).
    ///
    /// - Returns: the body, a view into the body buffer.
    /// - Throws: `HTTPParseError`: `incomplete`, the parse error, or `bodyTooLarge(totalBytes:)`.
    public func body() throws(HTTPParseError) -> UnsafeRawBufferPointer {
        if let failure { throw failure }
        guard phase == .complete else { throw .incomplete }
        guard bodyLength == bodyStored else { throw .bodyTooLarge(totalBytes: bodyLength) }
        return bodyPrefix
    }

    /// The body bytes kept so far (all of them unless the body was too large).
    public var bodyPrefix: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bodyBuffer[0..<bodyStored])
    }

    /// The headers, once `headersComplete`; empty before.
    public var headers: HTTPHeaders {
        guard headersComplete, failure == nil else { return .empty }
        return storedHeaders
    }

    /// The header entries stored so far, whatever the phase.
    var storedHeaders: HTTPHeaders {
        HTTPHeaders(storage: UnsafeRawBufferPointer(rebasing: headerBuffer[headersStart..<storeEnd]))
    }

    /// The reason phrase (may be empty), once the status line is parsed.
    public var reasonPhrase: UnsafeRawBufferPointer {
        guard statusCode != 0, headersStart >= 2 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(rebasing: headerBuffer[2..<headersStart])
    }

    /// Copies body bytes into the body buffer while room remains; counts all of them.
    mutating func takeBody(_ bytes: UnsafeRawBufferPointer, from start: Int, count: Int) {
        let kept = min(count, bodyBuffer.count - bodyStored)
        if kept > 0 {
            UnsafeMutableRawBufferPointer(rebasing: bodyBuffer[bodyStored..<(bodyStored + kept)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + kept)]))
            bodyStored += kept
        }
        bodyLength += count
    }
}
