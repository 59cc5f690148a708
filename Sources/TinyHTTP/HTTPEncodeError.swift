/// Why `HTTPRequestWriter` refused to write part of a request. A call that throws writes
/// nothing, so the request written so far stays well-formed.
public enum HTTPEncodeError: Error, Equatable {
    /// The output buffer is too small: at least `needed` bytes are required for the request so far.
    case bufferTooSmall(needed: Int)
    /// The request target is empty or contains SP, CR, LF, NUL or another control byte.
    case invalidPath
    /// The host is empty or contains SP, CR, LF, NUL or another control byte.
    case invalidHost
    /// A header name is empty or not an RFC 9110 token (this rejects `:`, SP, CR, LF, NUL).
    case invalidHeaderName
    /// A header value contains CR, LF, NUL or another control byte other than HTAB.
    case invalidHeaderValue
    /// `Host` or `Content-Length`: the writer emits these itself.
    case reservedHeader
    /// A negative content length.
    case invalidContentLength
    /// A call out of order, e.g. `header` before `start` or anything after `finish`.
    case outOfOrder
}
