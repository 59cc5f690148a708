import TinyMQTT
import TinyTLS

/// Errors of the IoT Hub layer. Each case says what to fix; `summary` gives one line.
public enum HubError: Error {
    /// The connection string is malformed or incomplete.
    case connectionString(ConnectionStringError)
    /// A SAS token could not be made (bad key, buffer too small).
    case sasToken(SASTokenError)
    /// A topic could not be built (id with `/`, `+` or `#`, buffer too small).
    case topic(TopicError)
    /// A property could not be encoded into the topic buffer.
    case properties(PropertyBagError)
    /// The MQTT layer failed (transport, refusal, window full...).
    case mqtt(MQTTError)
    /// The message exceeds the hub's size limit (256 KB for device-to-cloud, §3.3 of the protocol notes).
    case messageTooLarge(size: Int, limit: Int)
    /// A caller buffer is too small for the identity (connection string, user name, token).
    case bufferTooSmall(needed: Int)
    /// Too many twin requests await their answer.
    case tooManyPendingRequests
    /// The client is not connected (or was stopped after a permanent refusal).
    case notConnected
    /// The hub refused the credentials (this CONNACK code) and its clock could not be read
    /// to rule out a wrong device clock (HTTPS to the hub blocked, or a gateway without it).
    case clockUnchecked(MQTTConnectReturnCode)

    /// A one-line description a person can act on.
    public var summary: StaticString {
        switch self {
        case .connectionString(let error): return error.summary
        case .sasToken: return "could not create a SAS token: check SharedAccessKey (Base64)"
        case .topic: return "could not build a topic: device/module ids must not contain '/', '+' or '#'"
        case .properties: return "message properties do not fit the topic buffer"
        case .mqtt(let error): return error.summary
        case .messageTooLarge: return "message too large: IoT Hub accepts at most 256 KB per device-to-cloud message"
        case .bufferTooSmall: return "identity buffer too small for the connection string, user name and token"
        case .tooManyPendingRequests: return "too many twin requests awaiting an answer"
        case .notConnected: return "not connected"
        case .clockUnchecked: return "not authorized, and the hub's clock could not be read to check the device clock: check the key and the clock"
        }
    }

    init(_ error: HubCredentialsError) {
        switch error {
        case .connectionString(let reason): self = .connectionString(reason)
        case .sasToken(let reason): self = .sasToken(reason)
        case .bufferTooSmall(let needed): self = .bufferTooSmall(needed: needed)
        }
    }

    /// Whether retrying with the same credentials cannot help (bad key, unknown device...).
    public var isAuthenticationFailure: Bool {
        if case .mqtt(.connectionRefused(let code)) = self { return code.isPermanent }
        if case .clockUnchecked = self { return true }
        return false
    }
}
