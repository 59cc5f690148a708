/// Which hub features a client subscribes to on every connect (IoT Hub allows at most
/// five subscriptions per device; TinyHub uses at most four).
public struct HubFeatures: OptionSet, Sendable {
    /// Raw bits.
    public let rawValue: UInt8
    /// Creates a set from raw bits.
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Cloud-to-device messages (`devices/{d}/messages/devicebound/#`, QoS 1). Devices only.
    public static let cloudToDevice = HubFeatures(rawValue: 1)
    /// Device twin responses and desired-property patches.
    public static let twin = HubFeatures(rawValue: 2)
    /// Direct methods.
    public static let methods = HubFeatures(rawValue: 4)
}

/// Behaviour of a `HubClient`.
public struct HubOptions {
    /// SAS token lifetime in seconds (default 3600).
    public var sasLifetimeSeconds: UInt32 = 3_600
    /// Renew the token when this share of its lifetime has passed (default 80 %), with a
    /// clean DISCONNECT and a reconnect that resumes the session.
    public var renewAtPercent: UInt32 = 80
    /// MQTT keep-alive in seconds (default 240; capped at 1177: IoT Hub waits 1.5 x keep-alive, at most 1767 s).
    public var keepAliveSeconds: UInt16 = 240
    /// IoT Plug and Play model id sent as `model-id` in the user name, if any.
    public var modelID: StaticString? = nil
    /// Features subscribed to on connect.
    public var features: HubFeatures = [.cloudToDevice, .twin, .methods]
    /// How long a twin GET or reported PATCH may wait for its answer (default 30 s). An
    /// unanswered request fails with status 0 and the connection counts as dead: the client
    /// reconnects.
    public var twinRequestTimeoutMs: UInt32 = 30_000
    /// Fetch the full twin after every connect (desired notifications are only sent while
    /// connected, so a reconnect may have missed some). Needs `.twin`.
    public var getTwinOnConnect = true

    /// The defaults above.
    public init() {}

    /// Keep-alive clamped to what IoT Hub honours.
    var effectiveKeepAlive: UInt16 { min(keepAliveSeconds, 1_177) }
}

/// IoT Hub message limits (protocol notes §3.3).
public enum HubLimits {
    /// Largest device-to-cloud message: body plus property names and values.
    public static let maxTelemetryBytes = 262_144
}
