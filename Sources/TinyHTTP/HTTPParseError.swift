/// Why `HTTPResponseParser` rejected a response. Input is treated as hostile: every
/// malformed byte sequence ends in one of these, never in a trap. After any case except
/// `bodyTooLarge` and `incomplete` the parser stays failed and the connection must be closed.
public enum HTTPParseError: Error, Equatable {
    /// The status line is not `HTTP/1.x SP code [SP reason]`, or the reason has control bytes.
    case invalidStatusLine
    /// A well-formed version other than HTTP/1.0 or HTTP/1.1.
    case unsupportedVersion
    /// The status code is not three digits in 100...599.
    case invalidStatusCode
    /// The status line is longer than `maxLineLength`.
    case statusLineTooLong
    /// A header or trailer line (after unfolding) is longer than `maxLineLength`.
    case headerLineTooLong
    /// The header block does not fit the caller's header buffer.
    case headerBlockTooLarge
    /// More header (or trailer) lines than `maxHeaderCount`.
    case tooManyHeaders
    /// A header name is empty, not a token, or followed by whitespace before the colon.
    case invalidHeaderName
    /// A header value contains NUL or another control byte other than HTAB.
    case invalidHeaderValue
    /// A header line has no colon, or the first header line starts with whitespace.
    case invalidHeaderLine
    /// A CR not followed by LF.
    case invalidLineEnding
    /// `Content-Length` is not a decimal number, is empty, or exceeds 2^31 - 1.
    case invalidContentLength
    /// Several `Content-Length` values that differ.
    case conflictingContentLength
    /// Both `Content-Length` and `Transfer-Encoding` (a request-smuggling pattern, RFC 9112 §6.3).
    case contentLengthWithTransferEncoding
    /// A `Transfer-Encoding` other than a single `chunked`.
    case unsupportedTransferEncoding
    /// A chunk-size line that is not hex digits (+ optional extension), or a size above 2^31 - 1.
    case invalidChunkSize
    /// A chunk-size line longer than `maxLineLength`.
    case chunkLineTooLong
    /// Chunk data not followed by CRLF: the chunk is longer than its declared size.
    case invalidChunkTerminator
    /// The connection closed before the response was complete.
    case truncated
    /// Bytes fed after a complete response (call `reset` first for a pipelined response).
    case dataAfterEnd
    /// The response is complete but its body (`totalBytes` long) did not fit the body
    /// buffer: the excess was drained, so the connection is still usable.
    case bodyTooLarge(totalBytes: Int)
    /// The body was asked for before the response was complete.
    case incomplete
}
