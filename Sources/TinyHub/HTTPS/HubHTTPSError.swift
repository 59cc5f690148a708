import TinyHTTP
import TinyPlatform
import TinyTLS

/// Errors of the HTTPS face of the hub layer (`HubHTTPSClient`). One enum for the whole
/// layer: local mistakes, transport and HTTP failures, and the hub's answers by status.
public enum HubHTTPSError: Error {
    /// The connection string is malformed or incomplete.
    case connectionString(ConnectionStringError)
    /// A SAS token could not be made (bad key, buffer too small).
    case sasToken(SASTokenError)
    /// The identity buffer cannot hold the connection string and a SAS token.
    case bufferTooSmall(needed: Int)
    /// The request could not be written (request buffer too small, or a byte TinyHTTP refuses).
    case request(HTTPEncodeError)
    /// Application property `index` has a name that is not an RFC 9110 token, is empty or too long.
    case invalidPropertyName(index: Int)
    /// Application property `index` has a value with control bytes, non-ASCII bytes or
    /// leading/trailing whitespace (HTTP would alter or refuse it).
    case invalidPropertyValue(index: Int)
    /// A system property value (message id, content type...) is not a safe header value.
    case invalidSystemProperty
    /// The message (or batch) exceeds the hub's 256 KB limit or the caller's body buffer.
    case messageTooLarge(size: Int, limit: Int)
    /// The transport failed (connect, TLS, send, receive, timeout).
    case transport(TransportError)
    /// The response was malformed (or its header block did not fit the header buffer).
    case response(HTTPParseError)
    /// A received cloud-to-device message was larger than the body buffer; it was rejected
    /// (dead-lettered) so it does not come back forever.
    case receivedMessageTooLarge(totalBytes: Int)
    /// A 200 answer to the C2D GET carried no usable `ETag` (lock token).
    case missingLockToken
    /// A lock token longer than `C2DLockToken.capacity` or with bytes unfit for a header.
    case invalidLockToken
    /// Cloud-to-device over HTTPS is for device identities; this connection string names a module.
    case cloudToDeviceNeedsDeviceIdentity
    /// 400: the hub refused the request as malformed.
    case badRequest
    /// 401: the SAS token was refused: wrong key, or the device clock is off (more than 5 min).
    case unauthorized
    /// 401, the first of a streak: the client took the hub's time from the answer's `Date`
    /// header (`offsetSeconds` = hub minus device) and mints tokens from it now. Transient:
    /// send again; a second 401 is final (`unauthorized`).
    case clockAdjusted(offsetSeconds: Int64)
    /// 403: forbidden: daily quota exceeded, C2D queue full, or the device is disabled.
    case forbidden
    /// 404: the hub does not know this device (or module).
    case deviceNotFound
    /// 412: the lock on the C2D message was lost (expired after 1 min, or already settled).
    case lockLost
    /// 413: the hub found the message too large.
    case payloadTooLarge
    /// 429: throttled. The client refuses requests until `Retry-After` (seconds) has passed.
    case throttled(retryAfterSeconds: Int)
    /// 503: service unavailable. The client refuses requests until `Retry-After` has passed.
    case serviceUnavailable(retryAfterSeconds: Int)
    /// Another 5xx: transient, try again later.
    case serverError(status: Int)
    /// Any other status the client does not expect for this request.
    case unexpectedStatus(Int)
    /// A request before the `Retry-After` of an earlier 429/503 passed; nothing was sent.
    case backingOff(remainingMs: UInt64)
    /// A C2D poll before the polling policy allows it; nothing was sent.
    case pollTooSoon(remainingMs: UInt64)
    /// Requests stopped after repeated authentication failures (401/403/404): fix the key,
    /// the clock or the device registration, then call `resume()`.
    case stoppedAfterAuthenticationFailures

    /// The error for an HTTP status other than the expected success code.
    static func status(_ code: Int, retryAfter: Int) -> HubHTTPSError {
        switch code {
        case 400: return .badRequest
        case 401: return .unauthorized
        case 403: return .forbidden
        case 404: return .deviceNotFound
        case 412: return .lockLost
        case 413: return .payloadTooLarge
        case 429: return .throttled(retryAfterSeconds: retryAfter)
        case 503: return .serviceUnavailable(retryAfterSeconds: retryAfter)
        case 500...599: return .serverError(status: code)
        default: return .unexpectedStatus(code)
        }
    }

    /// Whether retrying with the same credentials cannot help (401, 403, 404, or stopped).
    public var isAuthenticationFailure: Bool {
        switch self {
        case .unauthorized, .forbidden, .deviceNotFound, .stoppedAfterAuthenticationFailures: return true
        default: return false
        }
    }

    /// Whether the same request may succeed later (throttling, 5xx, network trouble; not an
    /// HTTP proxy that refused the tunnel, `TransportError.isRefusal`).
    public var isTransient: Bool {
        switch self {
        case .throttled, .serviceUnavailable, .serverError, .backingOff, .pollTooSoon, .clockAdjusted: return true
        case .transport(let error): return !error.isRefusal // a proxy that refused the tunnel refuses again
        default: return false
        }
    }

    init(_ error: HubCredentialsError) {
        switch error {
        case .connectionString(let reason): self = .connectionString(reason)
        case .sasToken(let reason): self = .sasToken(reason)
        case .bufferTooSmall(let needed): self = .bufferTooSmall(needed: needed)
        }
    }

    /// A one-line description a person can act on.
    public var summary: StaticString {
        switch self {
        case .connectionString(let error): return error.summary
        case .sasToken: return "could not create a SAS token: check SharedAccessKey (Base64)"
        case .bufferTooSmall: return "identity buffer too small for the connection string and SAS token"
        case .request: return "request does not fit the request buffer or has bytes HTTP forbids"
        case .invalidPropertyName: return "property name is not an HTTP token (letters, digits, !#$%&'*+-.^_`|~)"
        case .invalidPropertyValue: return "property value has control, non-ASCII or edge whitespace bytes"
        case .invalidSystemProperty: return "system property value has control, non-ASCII or edge whitespace bytes"
        case .messageTooLarge: return "message too large: IoT Hub accepts at most 256 KB (or the body buffer is smaller)"
        case .transport(let error): return error.summary
        case .response: return "malformed HTTP response (or headers larger than the header buffer)"
        case .receivedMessageTooLarge: return "cloud-to-device message larger than the body buffer: rejected"
        case .missingLockToken: return "C2D message without ETag lock token"
        case .invalidLockToken: return "C2D lock token too long or not a safe header value"
        case .cloudToDeviceNeedsDeviceIdentity: return "cloud-to-device over HTTPS needs a device (not module) identity"
        case .badRequest: return "400 bad request"
        case .unauthorized: return "401 unauthorized: wrong key, or the device clock is off"
        case .clockAdjusted: return "401 unauthorized: the device clock differed from the hub's; retrying with the hub's time"
        case .forbidden: return "403 forbidden: daily quota exceeded, queue full, or device disabled"
        case .deviceNotFound: return "404: device not registered in this hub"
        case .lockLost: return "412: message lock lost (expired or already settled)"
        case .payloadTooLarge: return "413: message too large for the hub"
        case .throttled: return "429 throttled: backing off per Retry-After"
        case .serviceUnavailable: return "503 service unavailable: backing off per Retry-After"
        case .serverError: return "hub server error (5xx): transient"
        case .unexpectedStatus: return "unexpected HTTP status"
        case .backingOff: return "backing off after 429/503: request not sent"
        case .pollTooSoon: return "C2D poll not due yet (25-minute rule): request not sent"
        case .stoppedAfterAuthenticationFailures: return "stopped after repeated authentication failures: fix credentials, then resume()"
        }
    }
}
