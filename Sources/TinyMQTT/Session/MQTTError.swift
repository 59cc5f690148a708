import TinyPlatform

/// CONNACK return codes (MQTT 3.1.1 §3.2.2.3).
public enum MQTTConnectReturnCode: UInt8, Sendable {
    /// Connection accepted.
    case accepted = 0
    /// The server does not support protocol level 4.
    case unacceptableProtocolVersion = 1
    /// The client identifier is not allowed.
    case identifierRejected = 2
    /// The server is up but the MQTT service is not (IoT Hub also uses it for disabled devices).
    case serverUnavailable = 3
    /// User name or password malformed or wrong.
    case badUsernameOrPassword = 4
    /// Not authorized (IoT Hub: bad or expired SAS token, wrong key, device clock off).
    case notAuthorized = 5

    /// Refusals that retrying with the same credentials cannot fix.
    public var isPermanent: Bool { self != .accepted && self != .serverUnavailable }
}

/// Errors of the MQTT session layer: what a device application has to deal with.
public enum MQTTError: Error {
    /// The transport failed (DNS, refused, TLS verification, timeout, peer closed...).
    case transport(TransportError)
    /// A packet could not be encoded (too large for its buffer, invalid topic...).
    case encoding(MQTTCodecError)
    /// The broker sent a malformed or unexpected packet; the connection was closed.
    case protocolViolation(MQTTCodecError)
    /// The broker refused the connection with this CONNACK code.
    case connectionRefused(MQTTConnectReturnCode)
    /// No CONNACK arrived in time.
    case connackTimeout
    /// No PINGRESP arrived in time: the connection is considered dead.
    case pingTimeout
    /// A SUBSCRIBE or UNSUBSCRIBE got no acknowledgement in time: the connection is
    /// considered dead (a broker that ignores it would leave the subscriber deaf).
    case ackTimeout
    /// The call needs a connection and the session has none (or was stopped).
    case notConnected
    /// Every in-flight slot (or the in-flight byte arena) is in use: poll until PUBACKs free one.
    case inflightWindowFull
    /// Too many SUBSCRIBE/UNSUBSCRIBE requests await their acknowledgement.
    case tooManyPendingRequests

    /// Whether retrying cannot help and the session stops (`poll` throws it): a permanent CONNACK
    /// refusal, or a transport refusal (`TransportError.isRefusal`: the HTTP proxy refused the tunnel).
    public var isPermanentRefusal: Bool {
        switch self {
        case .connectionRefused(let code): return code.isPermanent
        case .transport(let error): return error.isRefusal
        default: return false
        }
    }

    /// A one-line description a person can act on.
    public var summary: StaticString {
        switch self {
        case .transport(let error): return error.summary
        case .encoding: return "packet does not fit its buffer or has an invalid topic"
        case .protocolViolation: return "broker sent a malformed packet; connection closed"
        case .connectionRefused(let code):
            switch code {
            case .notAuthorized: return "not authorized: check the device key, the key name and the device clock"
            case .badUsernameOrPassword: return "bad user name or password: check the credentials"
            case .identifierRejected: return "client identifier rejected: check the device id"
            case .serverUnavailable: return "server unavailable (or device disabled): will retry"
            case .unacceptableProtocolVersion: return "broker does not speak MQTT 3.1.1"
            case .accepted: return "accepted"
            }
        case .connackTimeout: return "no CONNACK from the broker in time"
        case .pingTimeout: return "no PINGRESP from the broker in time: connection lost"
        case .ackTimeout: return "a subscription was not acknowledged in time: reconnecting"
        case .notConnected: return "not connected"
        case .inflightWindowFull: return "in-flight window full: poll for acknowledgements first"
        case .tooManyPendingRequests: return "too many subscribe/unsubscribe requests awaiting acknowledgement"
        }
    }
}
