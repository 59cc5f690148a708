import TinyPlatform

// The poll loop and inbound framing: reading into the receive buffer, splitting it into packets (draining oversized ones) and dispatching them as events.
extension MQTTSession {
    /// Runs the session for up to `timeoutMs`: reads and dispatches inbound packets,
    /// keeps the connection alive, times out requests, and reconnects after a loss
    /// (waiting out the backoff). Returns early once it has reported at least one event.
    /// Throws only when the session cannot continue: never connected / disconnected by
    /// the app (`notConnected`) or a permanent refusal on reconnect (`isPermanentRefusal`).
    ///
    /// - Parameters:
    ///   - timeoutMs: the longest the call waits.
    ///   - handler: receives each event (message views are valid during the call).
    /// - Throws: `MQTTError` when the session stopped for good (a permanent refusal, reconnects off).
    public func poll(timeoutMs: UInt32, _ handler: (MQTTEvent) -> Void) throws(MQTTError) {
        // One clock read per pass: the time a pass starts is the time the previous one ended.
        var now = platform.monotonicMs()
        let deadline = ClockArithmetic.adding(UInt64(timeoutMs), to: now)
        var reported = false
        // Publishes queued since the last call leave before any wait (a failure is lostPending, reported next).
        if hasDeferredPublishes { try? flushDeferredPublishes() }
        if let error = lostPending {
            lostPending = nil
            connectionLost(error, handler)
            reported = true
        }
        repeat {
            switch state {
            case .idle:
                throw .notConnected
            case .stopped(let error):
                throw error
            case .waitingToReconnect(let at):
                if now < at {
                    if reported || now >= deadline { return }
                    platform.sleep(ms: UInt32(clamping: ClockArithmetic.remaining(until: min(at, deadline), from: now)))
                    break
                }
                do {
                    let sessionPresent = try establish()
                    handler(.connected(sessionPresent: sessionPresent))
                } catch {
                    if error.isPermanentRefusal { throw error }
                    connectionLost(error, handler)
                }
                reported = true
            case .connected:
                if let error = serviceTimers(now: now) {
                    connectionLost(error, handler)
                    reported = true
                    break
                }
                let wait = min(ClockArithmetic.remaining(until: deadline, from: now), nextTimerMs(now: now))
                if receiveAndDispatch(waitMs: UInt32(clamping: wait), handler) { reported = true }
            }
            if reported { return }
            now = platform.monotonicMs()
        } while now < deadline
    }

    /// Receives once and dispatches every complete packet. Returns true if it reported.
    func receiveAndDispatch(waitMs: UInt32, _ handler: (MQTTEvent) -> Void) -> Bool {
        do throws(MQTTError) {
            // Bytes that came with the CONNACK (or after a packet an earlier pass stopped
            // at) are dispatched before waiting for more.
            if received > 0, drainRemaining == 0, try dispatchBuffered(handler) { return true }
            let n: Int
            do {
                n = try receiveChunk(waitMs: UInt64(waitMs))
            } catch {
                throw .transport(error)
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
    func receiveChunk(waitMs: UInt64) throws(TransportError) -> Int {
        let room = receive.count - received
        guard room > 0 else { return 0 }
        let n = try transport.receive(into: UnsafeMutableRawBufferPointer(rebasing: receive[received...]),
                                      timeoutMs: Int32(clamping: waitMs))
        guard n >= 0, n <= room else { throw .invalidConfiguration("the transport reported more bytes than it was given room for") }
        return n
    }

    func dispatchBuffered(_ handler: (MQTTEvent) -> Void) throws(MQTTError) -> Bool {
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
    func dropOversized(_ header: MQTTFixedHeader, _ available: UnsafeRawBufferPointer,
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
    func dispatch(_ packet: MQTTInboundPacket, _ handler: (MQTTEvent) -> Void) throws(MQTTError) -> Bool {
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

    /// Drops `count` processed bytes from the front of the receive buffer.
    func consume(_ count: Int) {
        let rest = received - count
        if rest > 0 {
            UnsafeMutableRawBufferPointer(rebasing: receive[0..<rest])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: receive[count..<received]))
        }
        received = rest
    }
}
