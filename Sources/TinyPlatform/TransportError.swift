/// Why a transport could not open, send or receive. One enum for TCP and TLS alike,
/// so a session generic over its transport reports failures a person can act on.
public enum TransportError: Error, Equatable {
    /// The host name did not resolve (getaddrinfo error code attached).
    case dnsFailure(code: Int32)
    /// Every address of the host refused the TCP connection (nothing listens on the port).
    case connectionRefused
    /// No route to the host or the network is down.
    case networkUnreachable
    /// A connect, handshake, send or receive deadline passed.
    case timeout
    /// The peer closed the connection (TLS: with close_notify), or reset it.
    case closed
    /// The TCP connection ended before the peer's TLS close_notify, possibly in the middle of a
    /// record or of a close-delimited HTTP body: what was received may be cut short (RFC 5246 §7.2.1).
    case truncated
    /// Any other socket error, with its errno.
    case io(errno: Int32)
    /// The server certificate does not chain to a trusted root (wrong CA, self-signed...).
    case untrustedCertificate
    /// The server certificate is valid but not for the host name we asked for.
    case hostnameMismatch
    /// The server certificate (or one in its chain) has expired or is not yet valid.
    case certificateExpired
    /// Other TLS failure, with the mbedTLS error code (negative).
    case tls(code: Int32)
    /// The configuration is unusable (bad PEM, missing key, host name too long...).
    case invalidConfiguration(StaticString)
    /// The call needs an open connection and there is none.
    case notConnected
    /// Memory ran out (mbedTLS record buffers, handshake, resolver): raise the memory budget.
    case outOfMemory
    /// The HTTP proxy answered the CONNECT request with this status instead of 2xx: 407 (it
    /// wants credentials, or refused the ones given), 403 (the destination is not allowed),
    /// 502/503/504 (it could not reach the destination)... Permanent (`isRefusal`): the same
    /// request gets the same answer, so the MQTT session stops instead of reconnecting.
    case proxyRefused(status: Int)
    /// The HTTP proxy's answer to CONNECT is not an HTTP response, its header block is larger
    /// than the transport's buffer for it, or the proxy sent bytes after a 2xx head before the
    /// TLS handshake began: whatever listens there is not an HTTP proxy that TinyHub can use.
    case proxyInvalidResponse
    /// The server answered the WebSocket upgrade (`GET /$iothub/websocket`) with this status
    /// instead of 101: 404 (no WebSocket endpoint at that host and port: check the port, 443 for
    /// IoT Hub), 400/403 (the request or the client certificate was refused), 5xx (the service is
    /// unavailable). Permanent for 4xx other than 408 and 429 (`isRefusal`): the same request gets
    /// the same answer, so the MQTT session stops instead of reconnecting.
    case webSocketUpgradeRefused(status: Int)
    /// The answer to the WebSocket upgrade is not a valid one (RFC 6455 §4.1): not HTTP, a header
    /// block larger than the transport's buffer, `Upgrade`/`Connection` missing, a wrong
    /// `Sec-WebSocket-Accept`, or a subprotocol other than `mqtt`. Whatever answers is not an IoT
    /// Hub WebSocket endpoint (or something in between rewrote the answer).
    case webSocketUpgradeInvalid
    /// The server sent a WebSocket frame RFC 6455 forbids (a masked frame, reserved bits or
    /// opcodes, a text frame, a control frame over 125 bytes or fragmented, a broken
    /// fragmentation sequence, a non-minimal or oversize length). The transport sent a close
    /// frame (1002, or 1009 for an oversize frame) and dropped the connection; its
    /// `lastFrameError` says which rule was broken.
    case webSocketProtocolViolation

    /// Whether two errors are the same case with the same associated values.
    ///
    /// - Parameters:
    ///   - lhs: one error.
    ///   - rhs: the other.
    /// - Returns: whether they are equal.
    public static func == (lhs: TransportError, rhs: TransportError) -> Bool {
        switch (lhs, rhs) {
        case let (.dnsFailure(a), .dnsFailure(b)): return a == b
        case (.connectionRefused, .connectionRefused), (.networkUnreachable, .networkUnreachable),
             (.timeout, .timeout), (.closed, .closed), (.truncated, .truncated), (.untrustedCertificate, .untrustedCertificate),
             (.hostnameMismatch, .hostnameMismatch), (.certificateExpired, .certificateExpired),
             (.notConnected, .notConnected), (.outOfMemory, .outOfMemory):
            return true
        case let (.io(a), .io(b)): return a == b
        case let (.tls(a), .tls(b)): return a == b
        case (.proxyInvalidResponse, .proxyInvalidResponse): return true
        case let (.proxyRefused(a), .proxyRefused(b)): return a == b
        case let (.webSocketUpgradeRefused(a), .webSocketUpgradeRefused(b)): return a == b
        case (.webSocketUpgradeInvalid, .webSocketUpgradeInvalid), (.webSocketProtocolViolation, .webSocketProtocolViolation):
            return true
        case let (.invalidConfiguration(a), .invalidConfiguration(b)):
            return a.utf8CodeUnitCount == b.utf8CodeUnitCount && a.utf8Start == b.utf8Start
        default: return false
        }
    }

    /// Whether the other side refused (the HTTP proxy answered CONNECT with a status other than
    /// 2xx): the same settings get the same answer, so retrying cannot help. The MQTT session
    /// stops on it like on a permanent CONNACK refusal; the HTTPS client's error is not transient.
    /// A proxy that cannot be reached is not a refusal: that is `connectionRefused`, `dnsFailure`,
    /// `networkUnreachable` or `timeout`, as for a host that cannot be reached.
    /// A WebSocket upgrade answered with a 4xx status (other than 408 and 429) is a refusal too.
    public var isRefusal: Bool {
        switch self {
        case .proxyRefused: return true
        case .webSocketUpgradeRefused(let status): return status >= 400 && status < 500 && status != 408 && status != 429
        default: return false
        }
    }

    /// A short description for logs and example programs.
    public var summary: StaticString {
        switch self {
        case .dnsFailure: return "DNS lookup failed: check the host name"
        case .connectionRefused: return "connection refused: nothing listens on that host and port"
        case .networkUnreachable: return "network unreachable"
        case .timeout: return "timed out"
        case .closed: return "connection closed by the peer"
        case .truncated: return "connection cut before the peer's TLS close_notify: data may be missing"
        case .io: return "socket error"
        case .untrustedCertificate: return "server certificate is not trusted: check the trusted CA roots"
        case .hostnameMismatch: return "server certificate does not match the host name"
        case .certificateExpired: return "server certificate has expired or is not yet valid: check the device clock"
        case .tls: return "TLS failure"
        case .invalidConfiguration(let why): return why
        case .notConnected: return "not connected"
        case .outOfMemory: return "out of memory: the TLS session (about 64 KB of heap) does not fit"
        case .proxyRefused(let status):
            switch status {
            case 407: return "the HTTP proxy refused the tunnel: 407 proxy authentication required (credentials missing or wrong)"
            case 403: return "the HTTP proxy refused the tunnel: 403 forbidden (destination or port not allowed)"
            case 502, 503, 504: return "the HTTP proxy refused the tunnel: it could not reach the destination (502/503/504)"
            default: return "the HTTP proxy refused the tunnel (CONNECT answered with a status other than 2xx)"
            }
        case .proxyInvalidResponse: return "the HTTP proxy's answer to CONNECT is not a usable HTTP response: is it an HTTP proxy?"
        case .webSocketUpgradeRefused(let status):
            if status == 404 { return "the WebSocket upgrade was refused: 404, no MQTT WebSocket endpoint there (check the host and port, 443 for IoT Hub)" }
            if status >= 500 { return "the WebSocket upgrade was refused: the service is unavailable (5xx)" }
            return "the WebSocket upgrade was refused (the server answered with a status other than 101)"
        case .webSocketUpgradeInvalid: return "the answer to the WebSocket upgrade is not a valid one: is this an IoT Hub endpoint?"
        case .webSocketProtocolViolation: return "the server sent a WebSocket frame RFC 6455 forbids: connection dropped"
        }
    }
}
