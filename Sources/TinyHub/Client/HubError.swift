import TinyHTTP
import TinyMQTT
import TinyPlatform

/// Every failure of the hub layer, over MQTT (``MQTTFace``) and HTTPS (``HTTPSFace``)
/// alike: local mistakes, the transport, the hub's refusals and answers. Cases an application
/// reacts to are matched one level deep (`.inflightWindowFull`, `.notConnected`,
/// `.transport(…)`, `.throttled(…)`); ``summary`` gives one line a person can act on.
///
/// ```swift
/// do throws(HubError) {
///     _ = try client.sendTelemetry(payload)
/// } catch {
///     switch error {
///     case .inflightWindowFull, .notConnected: break   // poll, then send again
///     default: print(error.summary, error.isAuthenticationFailure ? "(check the credentials)" : "")
///     }
/// }
/// ```
public enum HubError: Error {
    // MARK: Configuration and local mistakes

    /// The connection string (or a part given to `HubConfiguration`) is malformed or incomplete.
    case connectionString(ConnectionStringError)
    /// A SAS token could not be made (bad key, buffer too small).
    case sasToken(SASTokenError)
    /// A caller buffer is too small for the identity (connection string, user name, token).
    case bufferTooSmall(needed: Int)
    /// A topic could not be built (id with `/`, `+` or `#`, buffer too small). MQTT.
    case topic(TopicError)
    /// A property could not be encoded into the topic buffer. MQTT.
    case properties(PropertyBagError)
    /// The request could not be written (request buffer too small, or a byte TinyHTTP refuses). HTTPS.
    case request(HTTPEncodeError)
    /// Application property `index` has a name that is not an RFC 9110 token, is empty or too long. HTTPS.
    case invalidPropertyName(index: Int)
    /// Application property `index` has a value with control bytes, non-ASCII bytes or
    /// leading/trailing whitespace (HTTP would alter or refuse it). HTTPS.
    case invalidPropertyValue(index: Int)
    /// A system property value (message id, content type...) is not a safe header value. HTTPS.
    case invalidSystemProperty
    /// The message (or batch) exceeds the hub's 256 KB limit (`HubLimits.maxTelemetryBytes`) or
    /// the caller's buffer.
    case messageTooLarge(size: Int, limit: Int)
    /// Cloud-to-device over HTTPS is for device identities; this configuration names a module.
    case cloudToDeviceNeedsDeviceIdentity

    // MARK: Connection

    /// The transport failed (connect, TLS, proxy, send, receive, timeout).
    case transport(TransportError)
    /// The client is not connected (or was stopped after a permanent refusal). MQTT.
    case notConnected
    /// The QoS 1 in-flight window is full: poll for acknowledgements, then send again. MQTT.
    case inflightWindowFull
    /// The hub refused the MQTT connection with this CONNACK code (`isPermanent`: the
    /// credentials, retrying cannot help). MQTT.
    case connectionRefused(MQTTConnectReturnCode)
    /// Another failure of the MQTT session (malformed packet, timeouts, encoding). MQTT.
    case mqtt(MQTTError)
    /// Too many twin requests await their answer. MQTT.
    case tooManyPendingRequests
    /// The hub refused the credentials (this CONNACK code) and its clock could not be read
    /// to rule out a wrong device clock (HTTPS to the hub blocked, or a gateway without it). MQTT.
    case clockUnchecked(MQTTConnectReturnCode)

    // MARK: HTTPS answers

    /// The response was malformed (or its header block did not fit the header buffer).
    case response(HTTPParseError)
    /// A received cloud-to-device message was larger than the body buffer; it was rejected
    /// (dead-lettered) so it does not come back forever.
    case receivedMessageTooLarge(totalBytes: Int)
    /// A 200 answer to the cloud-to-device GET carried no usable `ETag` (lock token), or a
    /// message was settled that has none: received over MQTT, or before the client's last
    /// response (settle such a message by the `lockToken` kept from it).
    case missingLockToken
    /// A lock token longer than `C2DLockToken.capacity` or with bytes unfit for a header.
    case invalidLockToken
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

    /// A one-line description a person can act on.
    public var summary: StaticString {
        switch self {
        case .connectionString(let error): return error.summary
        case .sasToken: return "could not create a SAS token: check SharedAccessKey (Base64)"
        case .bufferTooSmall: return "identity buffer too small for the connection string, user name and token"
        case .topic: return "could not build a topic: device/module ids must not contain '/', '+' or '#'"
        case .properties: return "message properties do not fit the topic buffer"
        case .request: return "request does not fit the request buffer or has bytes HTTP forbids"
        case .invalidPropertyName: return "property name is not an HTTP token (letters, digits, !#$%&'*+-.^_`|~)"
        case .invalidPropertyValue: return "property value has control, non-ASCII or edge whitespace bytes"
        case .invalidSystemProperty: return "system property value has control, non-ASCII or edge whitespace bytes"
        case .messageTooLarge: return "message too large: IoT Hub accepts at most 256 KB (or the buffer is smaller)"
        case .cloudToDeviceNeedsDeviceIdentity: return "cloud-to-device over HTTPS needs a device (not module) identity"
        case .transport(let error): return error.summary
        case .notConnected: return "not connected"
        case .inflightWindowFull: return MQTTError.inflightWindowFull.summary
        case .connectionRefused(let code): return MQTTError.connectionRefused(code).summary
        case .mqtt(let error): return error.summary
        case .tooManyPendingRequests: return "too many twin requests awaiting an answer"
        case .clockUnchecked:
            return "not authorized, and the hub's clock could not be read to check the device clock: check the key and the clock"
        case .response: return "malformed HTTP response (or headers larger than the header buffer)"
        case .receivedMessageTooLarge: return "cloud-to-device message larger than the body buffer: rejected"
        case .missingLockToken: return "cloud-to-device message without lock token (received over MQTT, or settled after a later request: keep its lockToken)"
        case .invalidLockToken: return "C2D lock token too long or not a safe header value"
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

    /// Whether retrying with the same credentials cannot help: a permanent MQTT refusal (bad
    /// key, unknown device), HTTPS 401/403/404, or stopped after them.
    public var isAuthenticationFailure: Bool {
        switch self {
        case .connectionRefused(let code): return code.isPermanent
        case .clockUnchecked, .unauthorized, .forbidden, .deviceNotFound, .stoppedAfterAuthenticationFailures: return true
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

    /// The MQTT session's error, with the cases an application reacts to lifted to this level.
    init(_ error: MQTTError) {
        switch error {
        case .transport(let transport): self = .transport(transport)
        case .notConnected: self = .notConnected
        case .inflightWindowFull: self = .inflightWindowFull
        case .connectionRefused(let code): self = .connectionRefused(code)
        default: self = .mqtt(error)
        }
    }

    init(_ error: HubCredentialsError) {
        switch error {
        case .connectionString(let reason): self = .connectionString(reason)
        case .sasToken(let reason): self = .sasToken(reason)
        case .bufferTooSmall(let needed): self = .bufferTooSmall(needed: needed)
        }
    }

    /// The error for an HTTP status other than the expected success code.
    static func status(_ code: Int, retryAfter: Int) -> HubError {
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
}
