/// Timeouts and reconnect policy of an `MQTTSession`.
///
/// ```swift
/// var configuration = MQTTSessionConfiguration()
/// configuration.ackTimeoutMs = 10_000
/// configuration.backoff = Backoff(baseMs: 500, capMs: 30_000)
/// let session = MQTTSession(transport: transport, platform: SystemPlatform(), buffers: buffers, configuration: configuration)
/// ```
public struct MQTTSessionConfiguration {
    /// One deadline for a whole connection attempt: DNS, TCP connect, TLS handshake, CONNECT
    /// and its CONNACK (default 30 s). Whatever the transport leaves of it bounds the CONNACK.
    public var connectTimeoutMs: UInt32 = 30_000
    /// How long to wait for PINGRESP before declaring the connection dead.
    public var pingTimeoutMs: UInt32 = 10_000
    /// How long a SUBSCRIBE/UNSUBSCRIBE may wait for its acknowledgement. A broker that
    /// lets one go unanswered this long is treated as a dead connection: the session
    /// reconnects (and the application subscribes again on `.connected`).
    public var ackTimeoutMs: UInt32 = 30_000
    /// Deadline for one send.
    public var sendTimeoutMs: Int32 = 10_000
    /// Reconnect automatically after a connection loss (never after a permanent refusal).
    public var reconnect = true
    /// Delays between reconnect attempts (default: 1 s doubling up to 60 s, each uniform in [d/2, d]).
    public var backoff = Backoff()
    /// A connection must stay up this long before the backoff starts again from the first
    /// retry; a broker that accepts and then drops at once keeps the delays growing.
    public var stableConnectionMs: UInt32 = 60_000

    /// The defaults above.
    public init() {}
}
