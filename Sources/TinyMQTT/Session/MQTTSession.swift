import TinyPlatform

/// An MQTT 3.1.1 client session over any `Transport`: connect, keep-alive, a QoS 1
/// in-flight window kept in caller memory and resent after reconnects, subscriptions,
/// and automatic reconnection with backoff. Single-threaded: the application drives it
/// by calling `poll` from its loop; there are no hidden threads or timers.
///
/// Memory: the session works only in the `MQTTBuffers` it is given; it allocates nothing
/// after `init`.
///
/// ```swift
/// guard let buffers = MQTTBuffers.allocate(transmit: 1_024, receive: 1_024, inflightBytes: 4_096, inflightWindow: 16) else {
///     /* out of memory */
/// }
/// let session = MQTTSession(transport: try TLSTransport(TLSConfiguration(host: "broker.example.com", port: 8883)),
///                           platform: SystemPlatform(), buffers: buffers)
/// try session.connect(MQTTConnectOptions(clientID: clientID))
/// let id = try session.publish(topic: topic, payload: payload, qos: .atLeastOnce)
/// try session.poll(timeoutMs: 1_000) { event in
///     if case .delivered(id) = event { /* the broker has it */ }
/// }
/// ```
public final class MQTTSession<T: Transport, P: Platform> {
    enum State {
        case idle                        // never connected, or disconnected by the app
        case connected
        case waitingToReconnect(atMs: UInt64)
        case stopped(MQTTError) // permanent refusal (CONNACK or the proxy): no retries
    }

    struct PendingAck {
        var packetID: UInt16 = 0
        var deadlineMs: UInt64 = 0
    }

    /// The transport the session runs over (exposed for diagnostics and tests).
    public let transport: T
    /// The clock, randomness and sleep the session uses.
    public let platform: P
    /// Timeouts and reconnect policy; changes apply from the next use.
    public var configuration: MQTTSessionConfiguration

    var options: MQTTConnectOptions?
    let transmit: UnsafeMutableRawBufferPointer
    let receive: UnsafeMutableRawBufferPointer
    var inflight: InflightWindow
    var received = 0          // bytes of `receive` holding unprocessed data
    var drainRemaining = 0    // bytes of an oversized packet still to discard
    var pending = InlineArray<8, PendingAck>(repeating: PendingAck())
    var pendingCount = 0      // entries of `pending` in use: the hot paths skip the scans at 0
    var nextPacketID: UInt16 = 0
    var state = State.idle
    var reconnectAttempt: UInt32 = 0
    var lastSendMs: UInt64 = 0
    /// Whether `publish` queued QoS 1 packets not written yet (`MQTTSessionConfiguration.batchesPublishes`).
    var hasDeferredPublishes = false
    var pingSentMs: UInt64? = nil
    var connectedAtMs: UInt64 = 0
    var attemptStartMs: UInt64 = 0
    /// When the current streak of failed connection attempts began (the start of its first
    /// attempt), or nil when the last attempt succeeded (or none failed yet).
    public internal(set) var failingSinceMs: UInt64? = nil

    /// Creates a session that will use `buffers` and nothing else.
    ///
    /// - Parameters:
    ///   - transport: the connection to the broker (opened by `connect`).
    ///   - platform: clock, randomness and sleep.
    ///   - buffers: all the memory the session uses.
    ///   - configuration: timeouts, reconnect and backoff.
    public init(transport: T, platform: P, buffers: MQTTBuffers,
                configuration: MQTTSessionConfiguration = MQTTSessionConfiguration()) {
        self.transport = transport
        self.platform = platform
        self.configuration = configuration
        self.transmit = buffers.transmit
        self.receive = buffers.receive
        self.inflight = InflightWindow(arena: buffers.inflightArena, slots: buffers.inflightSlots)
    }

    /// Whether a CONNACK accepted the current connection.
    public var isConnected: Bool {
        if case .connected = state { return true }
        return false
    }

    /// Whether a permanent CONNACK refusal stopped the session.
    public var refusal: MQTTConnectReturnCode? {
        if case .stopped(.connectionRefused(let code)) = state { return code }
        return nil
    }

    /// The permanent refusal that stopped the session (a CONNACK code, or the proxy's answer
    /// `.transport(.proxyRefused(status))`), or nil while it may go on.
    public var stoppedBy: MQTTError? {
        if case .stopped(let error) = state { return error }
        return nil
    }

    /// QoS 1 messages sent (or queued) and not yet acknowledged.
    public var inflightCount: Int { inflight.unacknowledged }

    /// The largest encoded QoS 1 PUBLISH the in-flight window can ever hold (its arena's size):
    /// a layer that stores a message before publishing it checks this first.
    package var largestQueuedPublish: Int { inflight.arenaCapacity }

    /// Whether a QoS 1 PUBLISH with this topic and payload size fits the window now.
    ///
    /// - Parameters:
    ///   - topicLength: the topic's length in bytes.
    ///   - payloadLength: the payload's length in bytes.
    /// - Returns: whether the window has a slot and arena room for it.
    public func canPublish(topicLength: Int, payloadLength: Int) -> Bool {
        inflight.hasFreeSlot && inflight.canAppend(length: MQTTEncoder.publishSize(topicLength: topicLength, payloadLength: payloadLength, qos: .atLeastOnce))
    }

    /// A send failure outside `poll` waiting to be reported by the next `poll`.
    var lostPending: MQTTError? = nil
}
