/// The request methods TinyHTTP writes (RFC 9110 §9). The raw values only keep the compiler
/// from synthesising a `Hasher`-based `Hashable` (which pulls `arc4random_buf` into Embedded builds).
public enum HTTPMethod: UInt8, Sendable {
    /// GET
    case get
    /// HEAD: tell `HTTPResponseParser.reset(headRequest:)`, the response has no body.
    case head
    /// POST
    case post
    /// PUT
    case put
    /// DELETE
    case delete
    /// PATCH
    case patch
    /// CONNECT (RFC 9110 §9.3.6): asks an HTTP proxy for a tunnel. The request target is the
    /// authority `host:port`; answer it with `HTTPResponseParser.reset(headRequest: true)`,
    /// since a 2xx answer has no body: the tunnel starts right after its header block.
    case connect

    /// The method token as it appears on the request line.
    public var token: StaticString {
        switch self {
        case .get: return "GET"
        case .head: return "HEAD"
        case .post: return "POST"
        case .put: return "PUT"
        case .delete: return "DELETE"
        case .patch: return "PATCH"
        case .connect: return "CONNECT"
        }
    }
}
