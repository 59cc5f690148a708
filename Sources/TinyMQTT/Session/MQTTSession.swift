import TinyPlatform

/// An MQTT 3.1.1 client session over any `Transport`: connect, keep-alive, a QoS 1
/// in-flight window kept in caller memory and resent after reconnects, subscriptions,
/// and automatic reconnection with backoff. Single-threaded: the application drives it
/// by calling `poll` from its loop; there are no hidden threads or timers.
///
/// Memory: the session works only in the `MQTTBuffers` it is given; it allocates nothing
/// after `init`.
public final class MQTTSession<T: Transport, P: Platform> {
    enum State {
        case idle                        // never connected, or disconnected by the app
        case connected
        case waitingToReconnect(atMs: UInt64)
        case stopped(MQTTConnectReturnCode) // permanent refusal: no retries
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

    private var options: MQTTConnectOptions?
    private let transmit: UnsafeMutableRawBufferPointer
    private let receive: UnsafeMutableRawBufferPointer
    private var inflight: InflightWindow
    private var received = 0          // bytes of `receive` holding unprocessed data
    private var drainRemaining = 0    // bytes of an oversized packet still to discard
    private var pending = InlineArray<8, PendingAck>(repeating: PendingAck())
    private var pendingCount = 0      // entries of `pending` in use: the hot paths skip the scans at 0
    private var nextPacketID: UInt16 = 0
    private var state = State.idle
    private var reconnectAttempt: UInt32 = 0
    private var lastSendMs: UInt64 = 0
    private var pingSentMs: UInt64? = nil
    private var connectedAtMs: UInt64 = 0
    private var attemptStartMs: UInt64 = 0
    /// When the current streak of failed connection attempts began (the start of its first
    /// attempt), or nil when the last attempt succeeded (or none failed yet).
    public private(set) var failingSinceMs: UInt64? = nil

    /// Creates a session that will use `buffers` and nothing else.
    public init(transport: T, platform: P, buffers: MQTTBuffers,
                configuration: MQTTSessionConfiguration = MQTTSessionConfiguration()) {
        self.transport = transport
        self.platform = platform
        self.configuration = configuration
        self.transmit = buffers.transmit
        self.receive = buffers.receive
        self.inflight = InflightWindow(arena: buffers.inflightArena, slots: buffers.inflightSlots)
    }

    // MARK: - State

    /// Whether a CONNACK accepted the current connection.
    public var isConnected: Bool {
        if case .connected = state { return true }
        return false
    }

    /// Whether a permanent CONNACK refusal stopped the session.
    public var refusal: MQTTConnectReturnCode? {
        if case .stopped(let code) = state { return code }
        return nil
    }

    /// QoS 1 messages sent (or queued) and not yet acknowledged.
    public var inflightCount: Int { inflight.unacknowledged }

    /// Whether a QoS 1 PUBLISH with this topic and payload size fits the window now.
    public func canPublish(topicLength: Int, payloadLength: Int) -> Bool {
        inflight.canAppend(length: MQTTEncoder.publishSize(topicLength: topicLength, payloadLength: payloadLength, qos: .atLeastOnce))
    }

    // MARK: - Connect / disconnect

    /// Connects with `options` (kept for automatic reconnects: their bytes must stay valid),
    /// waits for the CONNACK, then resends unacknowledged QoS 1 messages with DUP set.
    /// Returns the CONNACK's session-present flag. Throws on any failure; a permanent
    /// refusal (bad credentials...) stops the session until `connect` is called again.
    @discardableResult
    public func connect(_ options: MQTTConnectOptions) throws(MQTTError) -> Bool {
        self.options = options
        return try establish()
    }

    /// Connects from the next `poll` instead of now: a failed attempt (refused TCP, timeout,
    /// CONNACK 3...) is reported as `.connectionLost` and retried with the backoff, like a
    /// lost connection; only a permanent refusal ends the session (thrown from `poll`).
    /// Watch `failingSinceMs` to give up after a budget of your choice.
    ///
    /// - Parameter options: the CONNECT fields, kept for every later reconnect (their
    ///   bytes must stay valid).
    public func start(_ options: MQTTConnectOptions) {
        self.options = options
        dropConnection()
        reconnectAttempt = 0
        state = .waitingToReconnect(atMs: platform.monotonicMs())
    }

    /// Replaces the options used by the next (re)connect, e.g. a renewed password.
    public func updateConnectOptions(_ options: MQTTConnectOptions) {
        self.options = options
    }

    /// Sends DISCONNECT (§3.14) and closes the transport. In-flight QoS 1 messages stay
    /// queued and are resent by the next `connect`. No automatic reconnect follows.
    public func disconnect() {
        if isConnected {
            try? sendControl { (bytes) throws(MQTTCodecError) -> Int in try MQTTEncoder.disconnect(into: bytes) }
        }
        dropConnection()
        state = .idle
    }

    /// Ends the current connection cleanly (DISCONNECT) and lets the next `poll` connect
    /// again at once with the current options, e.g. after `updateConnectOptions` with a
    /// renewed password. The session resumes (clean session 0): QoS 1 messages in flight
    /// are resent, none is lost. A failure then goes through the normal backoff.
    public func reconnect() {
        if case .stopped = state { return }
        if isConnected {
            try? sendControl { (bytes) throws(MQTTCodecError) -> Int in try MQTTEncoder.disconnect(into: bytes) }
        }
        dropConnection()
        reconnectAttempt = 0
        state = .waitingToReconnect(atMs: platform.monotonicMs())
    }

    private func establish() throws(MQTTError) -> Bool {
        guard let options else { throw .notConnected }
        dropConnection()
        attemptStartMs = platform.monotonicMs()
        do {
            let sessionPresent = try openAndConnect(options)
            failingSinceMs = nil
            connectedAtMs = platform.monotonicMs()
            state = .connected
            // The hub accepted the connection: a resend that fails now is a loss of this
            // connection (reported by the next poll), not a failed attempt.
            try? resendInflight()
            return sessionPresent
        } catch {
            if failingSinceMs == nil { failingSinceMs = attemptStartMs }
            throw error
        }
    }

    /// Opens the transport, sends CONNECT and waits for an accepting CONNACK.
    private func openAndConnect(_ options: MQTTConnectOptions) throws(MQTTError) -> Bool {
        let deadline = ClockArithmetic.adding(UInt64(configuration.connectTimeoutMs), to: platform.monotonicMs())
        do {
            try transport.open(timeoutMs: Int32(clamping: configuration.connectTimeoutMs))
        } catch {
            throw .transport(error)
        }
        let length: Int
        do {
            length = try MQTTEncoder.connect(options, into: transmit)
        } catch {
            transport.close()
            throw .encoding(error)
        }
        try sendRaw(UnsafeRawBufferPointer(rebasing: transmit[0..<length]))
        return try awaitConnack(deadline: deadline)
    }

    /// Reads until the first packet, which must be a CONNACK (§3.2).
    private func awaitConnack(deadline: UInt64) throws(MQTTError) -> Bool {
        while true {
            let now = platform.monotonicMs()
            guard now < deadline else {
                dropConnection()
                throw .connackTimeout
            }
            let n: Int
            do {
                n = try receiveChunk(waitMs: ClockArithmetic.remaining(until: deadline, from: now))
            } catch {
                dropConnection()
                throw .transport(error)
            }
            received += n
            let frame: (packet: MQTTInboundPacket, length: Int)?
            do {
                frame = try MQTTDecoder.decode(UnsafeRawBufferPointer(rebasing: receive[0..<received]))
            } catch {
                dropConnection()
                throw .protocolViolation(error)
            }
            if frame == nil, received == receive.count {
                dropConnection()
                throw .protocolViolation(.invalidConnack)
            }
            guard let (packet, consumed) = frame else { continue }
            guard case .connack(let sessionPresent, let code) = packet else {
                dropConnection()
                throw .protocolViolation(.unexpectedPacketType(receive[0] >> 4))
            }
            consume(consumed)
            let returnCode = MQTTConnectReturnCode(rawValue: code) ?? .notAuthorized
            guard returnCode == .accepted else {
                dropConnection()
                if returnCode.isPermanent { state = .stopped(returnCode) }
                throw .connectionRefused(returnCode)
            }
            return sessionPresent
        }
    }

    /// Resends every unacknowledged QoS 1 PUBLISH, oldest first (§4.6), with DUP set.
    private func resendInflight() throws(MQTTError) {
        var next = inflight.oldestSlot
        while let slot = next {
            try sendOrLose(inflight.packetForSending(slot: slot))
            next = inflight.slot(after: slot)
        }
    }

    /// Closes the transport and forgets partial input and outstanding requests.
    private func dropConnection() {
        transport.close()
        lostPending = nil   // a loss not yet reported belongs to the connection closed here
        received = 0
        drainRemaining = 0
        pingSentMs = nil
    }

    private func sendRaw(_ bytes: UnsafeRawBufferPointer) throws(MQTTError) {
        do {
            try transport.send(bytes, timeoutMs: configuration.sendTimeoutMs)
            lastSendMs = platform.monotonicMs()
        } catch {
            dropConnection()
            throw .transport(error)
        }
    }

    // MARK: - Publish / subscribe

    /// Publishes a message. QoS 1 messages are encoded into the in-flight arena and kept
    /// until their PUBACK; while disconnected they queue there and go out on reconnect.
    /// QoS 0 needs a connection. Returns the packet id (0 for QoS 0).
    @discardableResult
    public func publish(topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, qos: MQTTQoS,
                        retain: Bool = false) throws(MQTTError) -> UInt16 {
        if case .stopped = state { throw .notConnected }
        if qos == .atMostOnce {
            guard isConnected else { throw .notConnected }
            let length: Int
            do {
                length = try MQTTEncoder.publish(topic: topic, payload: payload, qos: .atMostOnce, retain: retain, into: transmit)
            } catch { throw .encoding(error) }
            try sendOrLose(UnsafeRawBufferPointer(rebasing: transmit[0..<length]))
            return 0
        }
        let size = MQTTEncoder.publishSize(topicLength: topic.count, payloadLength: payload.count, qos: .atLeastOnce)
        guard size <= inflight.arenaCapacity else { throw .encoding(.bufferTooSmall(needed: size)) }
        // Known before a packet id is taken or anything is encoded.
        guard inflight.canAppend(length: size) else { throw .inflightWindowFull }
        guard let packetID = allocatePacketID(),
              let (slot, bytes) = inflight.append(packetID: packetID, length: size) else { throw .inflightWindowFull }
        do {
            _ = try MQTTEncoder.publish(topic: topic, payload: payload, qos: .atLeastOnce, retain: retain,
                                        packetID: packetID, into: bytes)
        } catch {
            inflight.remove(slot: slot)
            throw .encoding(error)
        }
        if isConnected {
            // A failed send is not an error for QoS 1: the message stays queued for resend.
            try? sendOrLose(inflight.packetForSending(slot: slot))
        }
        return packetID
    }

    /// Subscribes to one or more filters; the SUBACK arrives as `.subscribed` from `poll`.
    @discardableResult
    public func subscribe(_ subscriptions: UnsafeBufferPointer<MQTTSubscription>) throws(MQTTError) -> UInt16 {
        try request { (id: UInt16) throws(MQTTCodecError) -> Int in
            try MQTTEncoder.subscribe(packetID: id, subscriptions, into: transmit)
        }
    }

    /// Unsubscribes from one or more filters; the UNSUBACK arrives as `.unsubscribed`.
    @discardableResult
    public func unsubscribe(_ filters: UnsafeBufferPointer<UnsafeRawBufferPointer>) throws(MQTTError) -> UInt16 {
        try request { (id: UInt16) throws(MQTTCodecError) -> Int in
            try MQTTEncoder.unsubscribe(packetID: id, filters, into: transmit)
        }
    }

    private func request(_ encode: (UInt16) throws(MQTTCodecError) -> Int) throws(MQTTError) -> UInt16 {
        guard isConnected else { throw .notConnected }
        var free = -1
        for i in pending.indices where pending[i].packetID == 0 { free = i; break }
        guard free >= 0, let id = allocatePacketID() else { throw .tooManyPendingRequests }
        let length: Int
        do { length = try encode(id) } catch { throw .encoding(error) }
        pending[free] = PendingAck(packetID: id, deadlineMs: ClockArithmetic.adding(UInt64(configuration.ackTimeoutMs),
                                                                                     to: platform.monotonicMs()))
        pendingCount += 1
        try sendOrLose(UnsafeRawBufferPointer(rebasing: transmit[0..<length]))
        return id
    }

    /// Next packet id: never 0, never one still in flight or awaiting an ack (§2.3.1).
    /// Nil only when all 65,535 ids are taken (a window that large); the search is bounded.
    private func allocatePacketID() -> UInt16? {
        for _ in 0..<Int(UInt16.max) {
            nextPacketID = nextPacketID == UInt16.max ? 1 : nextPacketID + 1
            if inflight.contains(nextPacketID) { continue }
            if pendingCount == 0 || !isPending(nextPacketID) { return nextPacketID }
        }
        return nil
    }

    /// Ends the current connection as failed, from outside `poll` (for example a layer
    /// above saw a request go unanswered): the next `poll` reports `.connectionLost(error)`
    /// and reconnects with the backoff. Does nothing unless connected.
    ///
    /// - Parameter error: the reason reported with `.connectionLost`.
    package func abandonConnection(_ error: MQTTError) {
        guard isConnected else { return }
        dropConnection()
        if lostPending == nil { lostPending = error }
    }

    /// Sends; on failure marks the connection lost (reconnect follows) and rethrows.
    private func sendOrLose(_ bytes: UnsafeRawBufferPointer) throws(MQTTError) {
        do {
            try sendRaw(bytes)
        } catch {
            lostPending = error
            throw error
        }
    }

    /// A send failure outside `poll` waiting to be reported by the next `poll`.
    private var lostPending: MQTTError? = nil

    // MARK: - Poll

    /// Runs the session for up to `timeoutMs`: reads and dispatches inbound packets,
    /// keeps the connection alive, times out requests, and reconnects after a loss
    /// (waiting out the backoff). Returns early once it has reported at least one event.
    /// Throws only when the session cannot continue: never connected / disconnected by
    /// the app (`notConnected`) or a permanent CONNACK refusal on reconnect.
    public func poll(timeoutMs: UInt32, _ handler: (MQTTEvent) -> Void) throws(MQTTError) {
        let deadline = ClockArithmetic.adding(UInt64(timeoutMs), to: platform.monotonicMs())
        var reported = false
        if let error = lostPending {
            lostPending = nil
            connectionLost(error, handler)
            reported = true
        }
        repeat {
            let now = platform.monotonicMs()
            switch state {
            case .idle:
                throw .notConnected
            case .stopped(let code):
                throw .connectionRefused(code)
            case .waitingToReconnect(let at):
                if now < at {
                    if reported || now >= deadline { return }
                    platform.sleep(ms: UInt32(clamping: ClockArithmetic.remaining(until: min(at, deadline), from: now)))
                    continue
                }
                do {
                    let sessionPresent = try establish()
                    handler(.connected(sessionPresent: sessionPresent))
                } catch {
                    if case .connectionRefused(let code) = error, code.isPermanent { throw error }
                    connectionLost(error, handler)
                }
                reported = true
            case .connected:
                if serviceTimers(now: now, handler) { reported = true; continue }
                let wait = min(ClockArithmetic.remaining(until: deadline, from: now), nextTimerMs(now: now))
                if receiveAndDispatch(waitMs: UInt32(clamping: wait), handler) { reported = true }
            }
        } while !reported && platform.monotonicMs() < deadline
    }

    /// Milliseconds until the next keep-alive or timeout action is due.
    private func nextTimerMs(now: UInt64) -> UInt64 {
        var next = UInt64.max
        if let sent = pingSentMs {
            next = min(next, ClockArithmetic.adding(UInt64(configuration.pingTimeoutMs), to: sent))
        } else if let due = keepAliveDueMs {
            next = min(next, due)
        }
        if pendingCount > 0 {
            for i in pending.indices where pending[i].packetID != 0 { next = min(next, pending[i].deadlineMs) }
        }
        return ClockArithmetic.remaining(until: next, from: now)
    }

    /// When a PINGREQ is due (a keep-alive period after the last send, §3.1.2.10), or nil.
    private var keepAliveDueMs: UInt64? {
        guard let options, options.keepAliveSeconds > 0 else { return nil }
        return ClockArithmetic.adding(UInt64(options.keepAliveSeconds) * 1000, to: lastSendMs)
    }

    /// Sends PINGREQ when idle for a keep-alive period (§3.1.2.10), detects a missing
    /// PINGRESP and expired requests. Returns true when it reported an event.
    private func serviceTimers(now: UInt64, _ handler: (MQTTEvent) -> Void) -> Bool {
        if let sent = pingSentMs, now >= ClockArithmetic.adding(UInt64(configuration.pingTimeoutMs), to: sent) {
            connectionLost(.pingTimeout, handler)
            return true
        }
        if pingSentMs == nil, let due = keepAliveDueMs, now >= due {
            do {
                try sendControl { (bytes) throws(MQTTCodecError) -> Int in try MQTTEncoder.pingreq(into: bytes) }
            } catch {
                connectionLost(error, handler)
                return true
            }
            pingSentMs = now
        }
        guard pendingCount > 0 else { return false }
        for i in pending.indices where pending[i].packetID != 0 && now >= pending[i].deadlineMs {
            // A broker that leaves a SUBSCRIBE unanswered would leave the application deaf
            // while the connection looks fine: treat it as a dead connection. Reconnecting
            // reports every outstanding request as `.ackTimedOut`.
            connectionLost(.ackTimeout, handler)
            return true
        }
        return false
    }

    /// Receives once and dispatches every complete packet. Returns true if it reported.
    private func receiveAndDispatch(waitMs: UInt32, _ handler: (MQTTEvent) -> Void) -> Bool {
        do {
            // Bytes that came with the CONNACK (or after a packet an earlier pass stopped
            // at) are dispatched before waiting for more.
            if received > 0, drainRemaining == 0, try dispatchBuffered(handler) { return true }
            let n: Int
            do {
                n = try receiveChunk(waitMs: UInt64(waitMs))
            } catch {
                connectionLost(.transport(error), handler)
                return true
            }
            guard n > 0 else { return false }
            received += n
            return try dispatchBuffered(handler)
        } catch {
            connectionLost(error, handler)
            return true
        }
    }

    /// One transport read into the free end of the receive buffer. A full buffer (only
    /// possible mid-drain or mid-packet, which the framing rules out) reads nothing; a
    /// transport that claims more bytes than it was given room for is a broken transport.
    private func receiveChunk(waitMs: UInt64) throws(TransportError) -> Int {
        let room = receive.count - received
        guard room > 0 else { return 0 }
        let n = try transport.receive(into: UnsafeMutableRawBufferPointer(rebasing: receive[received...]),
                                      timeoutMs: Int32(clamping: waitMs))
        guard n >= 0, n <= room else { throw .invalidConfiguration("the transport reported more bytes than it was given room for") }
        return n
    }

    private func dispatchBuffered(_ handler: (MQTTEvent) -> Void) throws(MQTTError) -> Bool {
        var reported = false
        while received > 0 {
            if drainRemaining > 0 {
                let take = min(drainRemaining, received)
                drainRemaining -= take
                consume(take)
                continue
            }
            let available = UnsafeRawBufferPointer(rebasing: receive[0..<received])
            let header: MQTTFixedHeader?
            do { header = try MQTTDecoder.fixedHeader(available) } catch { throw .protocolViolation(error) }
            guard let header else { break }
            if header.packetLength > receive.count {
                // Wait until the buffer is full so the PUBLISH prefix (topic, id) is readable.
                guard received == receive.count else { break }
                try dropOversized(header, available, handler)
                reported = true
                continue
            }
            guard received >= header.packetLength else { break }
            let body = UnsafeRawBufferPointer(rebasing: receive[header.headerLength..<header.packetLength])
            let packet: MQTTInboundPacket
            do { packet = try MQTTDecoder.decode(header: header, body: body) } catch { throw .protocolViolation(error) }
            if try dispatch(packet, handler) { reported = true }
            consume(header.packetLength)
        }
        return reported
    }

    /// Reports and discards a packet too large for the receive buffer. A QoS 1 PUBLISH is
    /// acknowledged, or the broker would redeliver it on every reconnect.
    private func dropOversized(_ header: MQTTFixedHeader, _ available: UnsafeRawBufferPointer,
                               _ handler: (MQTTEvent) -> Void) throws(MQTTError) {
        let type = header.typeNibble
        if type == MQTTPacketType.publish.rawValue, (header.firstByte >> 1) & 0x03 == 1 {
            let start = header.headerLength
            if available.count >= start + 2 {
                let topicLength = Int(available[start]) << 8 | Int(available[start + 1])
                let idAt = start + 2 + topicLength
                if available.count >= idAt + 2 {
                    let id = UInt16(available[idAt]) << 8 | UInt16(available[idAt + 1])
                    if id != 0 { try sendPuback(id) }
                }
            }
        } else if type != MQTTPacketType.publish.rawValue {
            throw .protocolViolation(.invalidLength(packetType: type))
        }
        drainRemaining = header.packetLength
        handler(.oversizedPacketDropped(packetType: type, length: header.packetLength))
    }

    /// Handles one packet; returns true when it reported an event.
    private func dispatch(_ packet: MQTTInboundPacket, _ handler: (MQTTEvent) -> Void) throws(MQTTError) -> Bool {
        switch packet {
        case .connack:
            throw .protocolViolation(.unexpectedPacketType(MQTTPacketType.connack.rawValue))
        case .publish(let message):
            handler(.message(message))
            // Acknowledge only after the application has the message.
            if message.qos == .atLeastOnce { try sendPuback(message.packetID) }
            return true
        case .puback(let id):
            // An unknown id is a late duplicate ack after a resend: ignore it.
            guard inflight.acknowledge(id) else { return false }
            handler(.delivered(packetID: id))
            return true
        case .suback(let id, let codes):
            guard clearPending(id) else { return false }
            handler(.subscribed(packetID: id, returnCodes: codes))
            return true
        case .unsuback(let id):
            guard clearPending(id) else { return false }
            handler(.unsubscribed(packetID: id))
            return true
        case .pingresp:
            pingSentMs = nil
            return false
        }
    }

    private func sendPuback(_ id: UInt16) throws(MQTTError) {
        try sendControl { (bytes) throws(MQTTCodecError) -> Int in try MQTTEncoder.puback(packetID: id, into: bytes) }
    }

    /// Encodes a small control packet (at most 4 bytes) on the stack and sends it.
    private func sendControl(_ encode: (UnsafeMutableRawBufferPointer) throws(MQTTCodecError) -> Int) throws(MQTTError) {
        var packet: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        try withUnsafeMutableBytes(of: &packet) { (bytes) throws(MQTTError) in
            let length: Int
            do throws(MQTTCodecError) { length = try encode(bytes) } catch { throw .encoding(error) }
            try sendRaw(UnsafeRawBufferPointer(rebasing: bytes[0..<length]))
        }
    }

    private func clearPending(_ id: UInt16) -> Bool {
        guard pendingCount > 0 else { return false }
        for i in pending.indices where pending[i].packetID == id {
            pending[i] = PendingAck()
            pendingCount -= 1
            return true
        }
        return false
    }

    /// Whether a SUBSCRIBE/UNSUBSCRIBE with packet id `id` awaits its ack.
    private func isPending(_ id: UInt16) -> Bool {
        for i in pending.indices where pending[i].packetID == id { return true }
        return false
    }

    /// Drops `count` processed bytes from the front of the receive buffer.
    private func consume(_ count: Int) {
        let rest = received - count
        if rest > 0 {
            UnsafeMutableRawBufferPointer(rebasing: receive[0..<rest])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: receive[count..<received]))
        }
        received = rest
    }

    // Cold path, reached from several places: one copy, not one inlined per caller.
    @inline(never)
    private func connectionLost(_ error: MQTTError, _ handler: (MQTTEvent) -> Void) {
        dropConnection()
        for i in pending.indices where pending[i].packetID != 0 {
            let id = pending[i].packetID
            pending[i] = PendingAck()
            pendingCount -= 1
            handler(.ackTimedOut(packetID: id))
        }
        handler(.connectionLost(error))
        guard configuration.reconnect else {
            state = .idle
            return
        }
        let now = platform.monotonicMs()
        // Only a connection that stayed up for a while starts the backoff afresh: one that
        // is accepted and dropped at once keeps the delays growing.
        if isConnected, ClockArithmetic.elapsed(since: connectedAtMs, now: now) >= UInt64(configuration.stableConnectionMs) {
            reconnectAttempt = 0
        }
        if reconnectAttempt < UInt32.max { reconnectAttempt += 1 }
        let delay = configuration.backoff.delay(attempt: reconnectAttempt, random: platform.random32())
        state = .waitingToReconnect(atMs: ClockArithmetic.adding(UInt64(delay), to: now))
        handler(.reconnectScheduled(delayMs: delay, attempt: reconnectAttempt))
    }
}
