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
    /// Write QoS 1 PUBLISH packets in batches (default false: each is written before `publish`
    /// returns). When true, a QoS 1 `publish` that leaves a slot of the in-flight window free
    /// only queues its packet; the queued packets are written, in order, by the `publish` that
    /// takes the window's last slot, at the start of the next `poll`, or before any other packet
    /// the session sends (QoS 0, PUBACK, PINGREQ, SUBSCRIBE, DISCONNECT...): one transport send
    /// (one TLS record, one system call) for all of them instead of one per packet. A program
    /// that publishes a burst and then polls gets the same delivery with a fraction of the
    /// kernel work; one that publishes and then does not poll for a while must leave this off
    /// (its last packets would wait for that poll).
    public var batchesPublishes = false

    /// The defaults above.
    public init() {}
}
