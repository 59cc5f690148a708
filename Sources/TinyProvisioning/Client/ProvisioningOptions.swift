import TinyPlatform
import TinyMQTT

/// Behaviour and memory of a `ProvisioningClient`, chosen at init.
///
/// ```swift
/// var options = ProvisioningOptions()
/// options.registrationTimeoutMs = 60_000
/// guard let dps = ProvisioningClient(transport: tls, platform: SystemPlatform(), crypto: MbedTLSCrypto(), options: options) else {
///     /* out of memory */
/// }
/// ```
public struct ProvisioningOptions {
    /// The bound on one whole `register` call, from its start to the assignment (default 90 s):
    /// connections, waits honouring `retry-after` and every answer. Past it, `register` throws
    /// `ProvisioningError.timedOut`.
    public var registrationTimeoutMs: UInt32 = 90_000
    /// How many DPS connections one `register` makes for transient failures (unreachable,
    /// TLS failure, connection lost; default 3), waiting the session's backoff in between. The
    /// one reconnection after a clock check comes on top.
    public var connectAttempts: UInt32 = 3
    /// MQTT keep-alive in seconds (default 60).
    public var keepAliveSeconds: UInt16 = 60
    /// SAS token lifetime in seconds (default 3600; a registration takes seconds).
    public var sasLifetimeSeconds: UInt32 = 3_600
    /// Largest DPS answer (topic, body and MQTT framing) read; a longer one is dropped, and
    /// the registration ends in `timedOut` (default 2048; an assignment is about 600 bytes).
    public var maxAnswerBytes = 2_048
    /// Largest custom allocation payload `register` accepts (default 512).
    public var maxPayloadBytes = 512
    /// The MQTT session's timeouts and backoff: `connectTimeoutMs` bounds each connection
    /// attempt, `backoff` spaces them. Automatic reconnection is always off: the client
    /// counts its connections itself.
    public var session = MQTTSessionConfiguration()

    /// The defaults above.
    public init() {}
}
