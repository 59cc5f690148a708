/// Which hub features a client subscribes to on every connect (IoT Hub allows at most
/// five subscriptions per device; TinyHub uses at most four).
public struct HubFeatures: OptionSet, Sendable {
    /// Raw bits.
    public let rawValue: UInt8
    /// Creates a set from raw bits.
    ///
    /// - Parameter rawValue: the bits, as `rawValue` returns them.
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Cloud-to-device messages (`devices/{d}/messages/devicebound/#`, QoS 1). Devices only.
    public static let cloudToDevice = HubFeatures(rawValue: 1)
    /// Device twin responses and desired-property patches.
    public static let twin = HubFeatures(rawValue: 2)
    /// Direct methods.
    public static let methods = HubFeatures(rawValue: 4)
}

/// Behaviour of a hub client, over MQTT (``MQTTFace``) or HTTPS (``HTTPSFace``): one
/// type for both. The SAS settings apply to both; the fields marked MQTT or HTTPS only to that
/// client, the other ignores them.
///
/// ```swift
/// var options = HubOptions()
/// options.sasLifetimeSeconds = 600
/// options.features = [.cloudToDevice]          // MQTT: subscribe to C2D only
/// options.polling = .development(intervalSeconds: 10)   // HTTPS: never ship this
/// ```
public struct HubOptions {
    /// SAS token lifetime in seconds (default 3600).
    public var sasLifetimeSeconds: UInt32 = 3_600
    /// Renew the token when this share of its lifetime has passed (default 80 %). Over MQTT
    /// the renewal is a clean DISCONNECT and a reconnect that resumes the session; over HTTPS
    /// the next request carries the new token.
    public var renewAtPercent: UInt32 = 80

    // MARK: MQTT

    /// MQTT keep-alive in seconds (default 240; capped at 1177: IoT Hub waits 1.5 x keep-alive, at most 1767 s).
    public var keepAliveSeconds: UInt16 = 240
    /// IoT Plug and Play model id sent as `model-id` in the MQTT user name, if any.
    public var modelID: StaticString? = nil
    /// Features subscribed to on connect (MQTT).
    public var features: HubFeatures = [.cloudToDevice, .twin, .methods]
    /// How long a twin GET or reported PATCH may wait for its answer (default 30 s). An
    /// unanswered request fails with status 0 and the connection counts as dead: the client
    /// reconnects. MQTT.
    public var twinRequestTimeoutMs: UInt32 = 30_000
    /// Fetch the full twin after every connect (desired notifications are only sent while
    /// connected, so a reconnect may have missed some). Needs `.twin`. MQTT.
    public var getTwinOnConnect = true

    // MARK: HTTPS

    /// How often and how much the client fetches cloud-to-device messages. HTTPS.
    public var polling = C2DPollingPolicy.default
    /// Deadline for one whole exchange: connect, TLS handshake, request and response (a resend
    /// on a stale kept-alive connection included), default 30 s. HTTPS.
    public var timeoutMs: Int32 = 30_000
    /// Back-off after a 429/503 that carried no usable `Retry-After`. HTTPS.
    public var defaultRetryAfterSeconds: UInt32 = 10
    /// After this many consecutive 401/403/404 answers the client stops sending until
    /// `resume()` (auth failures are never retried forever). At least 1. HTTPS.
    public var maxAuthenticationFailures: UInt8 = 3

    /// The defaults above.
    public init() {}

    /// Keep-alive clamped to what IoT Hub honours.
    var effectiveKeepAlive: UInt16 { min(keepAliveSeconds, 1_177) }
}

/// IoT Hub message limits, from Azure IoT Hub's developer guide: "Create and read IoT Hub
/// messages", section "Message size" (the 256 KB figure and how a message is measured, the
/// same over every protocol), and "IoT Hub quotas and throttling".
public enum HubLimits {
    /// Largest device-to-cloud message: the body, plus the names and values of the
    /// application properties, plus the values of the system properties.
    public static let maxTelemetryBytes = 262_144
}
