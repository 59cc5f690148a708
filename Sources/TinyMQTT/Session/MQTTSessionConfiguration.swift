/// Timeouts and reconnect policy of an `MQTTSession`.
public struct MQTTSessionConfiguration {
    /// Deadline for TCP connect + TLS handshake.
    public var openTimeoutMs: Int32 = 10_000
    /// Deadline for the CONNACK after CONNECT.
    public var connackTimeoutMs: UInt32 = 10_000
    /// How long to wait for PINGRESP before declaring the connection dead.
    public var pingTimeoutMs: UInt32 = 10_000
    /// How long a SUBSCRIBE/UNSUBSCRIBE may wait for its acknowledgement.
    public var ackTimeoutMs: UInt32 = 30_000
    /// Deadline for one send.
    public var sendTimeoutMs: Int32 = 10_000
    /// Reconnect automatically after a connection loss (never after a permanent refusal).
    public var reconnect = true
    /// Backoff floor: the first retry waits at least this long.
    public var backoffMinMs: UInt32 = 1_000
    /// Backoff ceiling.
    public var backoffMaxMs: UInt32 = 60_000

    /// The defaults above.
    public init() {}
}
