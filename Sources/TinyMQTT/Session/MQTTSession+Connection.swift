import TinyPlatform

// Connecting, reconnecting and losing a connection: the connection state machine and the reconnect policy.
extension MQTTSession {
    /// Connects with `options` (kept for automatic reconnects: their bytes must stay valid),
    /// waits for the CONNACK, then resends unacknowledged QoS 1 messages with DUP set.
    /// Returns the CONNACK's session-present flag. Throws on any failure; a permanent
    /// refusal (bad credentials, a proxy that refuses the tunnel...) stops the session until
    /// `connect` or `start` is called again.
    ///
    /// - Parameter options: the CONNECT fields.
    /// - Returns: the CONNACK's session-present flag.
    /// - Throws: `MQTTError`: `transport`, `connectionRefused` with the CONNACK code, `connackTimeout`, `encoding`.
    @discardableResult
    public func connect(_ options: MQTTConnectOptions) throws(MQTTError) -> Bool {
        self.options = options
        return try establish()
    }

    /// Connects from the next `poll` instead of now: a failed attempt (refused TCP, timeout,
    /// CONNACK 3...) is reported as `.connectionLost` and retried with the backoff, like a
    /// lost connection; only a permanent refusal ends the session (thrown from `poll`): a
    /// CONNACK code that retrying cannot fix, or the HTTP proxy refusing the tunnel.
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
    ///
    /// - Parameter options: the CONNECT fields for the next connection (their bytes must stay valid).
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

    func establish() throws(MQTTError) -> Bool {
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
            if error.isPermanentRefusal { state = .stopped(error) }
            throw error
        }
    }

    /// Opens the transport, sends CONNECT and waits for an accepting CONNACK.
    func openAndConnect(_ options: MQTTConnectOptions) throws(MQTTError) -> Bool {
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

    /// Reads until the first packet, which must be a CONNACK (§3.2). Any failure drops the connection.
    func awaitConnack(deadline: UInt64) throws(MQTTError) -> Bool {
        do throws(MQTTError) {
            while true {
                let now = platform.monotonicMs()
                guard now < deadline else { throw .connackTimeout }
                let n: Int
                do {
                    n = try receiveChunk(waitMs: ClockArithmetic.remaining(until: deadline, from: now))
                } catch {
                    throw .transport(error)
                }
                received += n
                let frame: (packet: MQTTInboundPacket, length: Int)?
                do {
                    frame = try MQTTDecoder.decode(UnsafeRawBufferPointer(rebasing: receive[0..<received]))
                } catch {
                    throw .protocolViolation(error)
                }
                if frame == nil, received == receive.count { throw .protocolViolation(.invalidConnack) }
                guard let (packet, consumed) = frame else { continue }
                guard case .connack(let sessionPresent, let code) = packet else {
                    throw .protocolViolation(.unexpectedPacketType(receive[0] >> 4))
                }
                consume(consumed)
                let returnCode = MQTTConnectReturnCode(rawValue: code) ?? .notAuthorized
                // A permanent code stops the session (establish).
                guard returnCode == .accepted else { throw .connectionRefused(returnCode) }
                return sessionPresent
            }
        } catch {
            dropConnection() // one copy for every failure
            throw error
        }
    }

    /// Resends every unacknowledged QoS 1 PUBLISH, oldest first (§4.6), with DUP set.
    func resendInflight() throws(MQTTError) {
        var next = inflight.oldestSlot
        while let slot = next {
            try sendOrLose(inflight.packetForSending(slot: slot))
            next = inflight.slot(after: slot)
        }
    }

    /// Closes the transport and forgets partial input and outstanding requests.
    func dropConnection() {
        transport.close()
        lostPending = nil   // a loss not yet reported belongs to the connection closed here
        hasDeferredPublishes = false // still in the window: the next connection resends them
        received = 0
        drainRemaining = 0
        pingSentMs = nil
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

    /// Forgets every unacknowledged QoS 1 message: none is resent by the next connect. For a
    /// layer above whose requests are only worth an answer on the connection that sent them
    /// (with a clean session, a resent request could be answered before the layer subscribes
    /// again); it sends a fresh request itself.
    package func discardInflight() {
        inflight.removeAll()
    }

    // Cold path, reached from several places: one copy, not one inlined per caller.
    @inline(never)
    func connectionLost(_ error: MQTTError, _ handler: (MQTTEvent) -> Void) {
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
