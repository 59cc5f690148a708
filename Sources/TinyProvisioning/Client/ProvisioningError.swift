import TinyMQTT
import TinyPlatform

/// Why `ProvisioningClient.register` did not return an assignment. Each case has a
/// one-line `summary` a person can act on; `isPermanent` tells whether trying again later
/// with the same settings can help, `isAuthenticationFailure` whether DPS refused the
/// credentials (the examples exit 2 for those, 1 for other permanent failures).
public enum ProvisioningError: Error {
    /// An input is unusable (ID scope or registration id with bytes DPS does not allow, a key
    /// that is not Base64, a payload that is not JSON or does not fit), or DPS sent an answer
    /// that cannot be read (malformed topic or body, missing field, unknown status).
    case protocolError(ProvisioningProtocolError)
    /// DPS refused the connection (CONNACK 4 or 5): wrong key, unknown ID scope or
    /// registration id, or an X.509 certificate DPS does not know. When a clock check is
    /// enabled this is the answer after it, so the device clock is not the cause.
    case notAuthorized(MQTTConnectReturnCode)
    /// DPS refused the connection (CONNACK 4 or 5) and its clock could not be read to rule
    /// out a wrong device clock (HTTPS to DPS blocked or failing).
    case clockUnchecked(MQTTConnectReturnCode)
    /// DPS refused the connection with another permanent CONNACK code (1: protocol version,
    /// 2: client identifier).
    case connectionRefused(MQTTConnectReturnCode)
    /// DPS refused the subscription to its answer topic.
    case subscriptionRefused
    /// DPS ended the registration with status `failed` (for example a custom allocation
    /// that found no hub); `errorCode` and `message` are DPS's own.
    case assignmentFailed(errorCode: Int64?, message: ProvisioningErrorMessage)
    /// The enrollment (or this device's registration) is disabled in DPS.
    case disabled(errorCode: Int64?, message: ProvisioningErrorMessage)
    /// DPS answered the request with this status, a 4xx other than 429 (or another status
    /// this client does not expect), with DPS's `errorCode` and `message` when it sent them.
    case rejected(status: UInt16, errorCode: Int64?, message: ProvisioningErrorMessage)
    /// No connection to DPS could be made or kept: the last failure after
    /// `ProvisioningOptions.connectAttempts` connections, or at once for a failure retrying
    /// cannot fix (certificate not trusted, out of memory, unusable TLS configuration, a proxy that refuses the tunnel).
    case connectionFailed(MQTTError)
    /// `ProvisioningOptions.registrationTimeoutMs` passed before DPS assigned the device.
    case timedOut

    /// A one-line description a person can act on.
    public var summary: StaticString {
        switch self {
        case .protocolError(let error):
            switch error {
            case .invalidIdentity: return "invalid ID scope or registration id: use 1-128 characters of A-Z a-z 0-9 - . _ ~"
            case .invalidKey: return "the provisioning key is not valid Base64"
            case .keyTooLong: return "the provisioning key is too long (at most 128 bytes decoded)"
            case .bufferTooSmall: return "the registration payload or an identity does not fit the client's buffers"
            case .crypto: return "could not sign the provisioning token (crypto failure)"
            case .malformedTopic, .malformedBody, .missingField, .unknownStatus, .invalidOperationID:
                return "DPS sent an answer this client cannot read"
            }
        case .notAuthorized:
            return "DPS refused the credentials: check the ID scope, the registration id and the key or certificate"
        case .clockUnchecked:
            return "DPS refused the credentials and its clock could not be read to check the device clock: check the key and the clock"
        case .connectionRefused: return "DPS refused the connection: check the registration id"
        case .subscriptionRefused: return "DPS refused the subscription to its answers"
        case .assignmentFailed: return "DPS could not assign the device to a hub (see DPS's message)"
        case .disabled: return "the enrollment or registration is disabled in DPS"
        case .rejected: return "DPS rejected the registration request (see its status and message)"
        case .connectionFailed(let error): return error.summary
        case .timedOut: return "DPS did not assign the device in time: will retry"
        }
    }

    /// Whether DPS refused the credentials (a wrong key, scope, registration id or
    /// certificate; after the clock check when one is enabled).
    public var isAuthenticationFailure: Bool {
        switch self {
        case .notAuthorized, .clockUnchecked: return true
        default: return false
        }
    }

    /// Whether trying again with the same settings cannot help. Transient failures (DPS
    /// unreachable, connection lost, a slow assignment) are not permanent: retry later with
    /// a backoff. DPS throttles devices that register too often.
    public var isPermanent: Bool {
        switch self {
        case .timedOut: return false
        case .connectionFailed(let error): return ProvisioningError.isPermanent(error)
        default: return true
        }
    }

    /// MQTT failures retrying cannot fix: refusals other than "unavailable", and transport
    /// failures of trust, memory or configuration, or a proxy that refuses the tunnel.
    static func isPermanent(_ error: MQTTError) -> Bool {
        switch error {
        case .connectionRefused(let code): return code.isPermanent
        case .transport(let transport):
            switch transport {
            case .untrustedCertificate, .hostnameMismatch, .certificateExpired, .outOfMemory, .invalidConfiguration,
                 .proxyRefused, .proxyInvalidResponse:
                return true
            default:
                return false
            }
        case .encoding: return true
        default: return false
        }
    }
}
