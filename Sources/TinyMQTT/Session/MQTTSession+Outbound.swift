import TinyPlatform

// What the session sends: PUBLISH into the in-flight window, SUBSCRIBE/UNSUBSCRIBE, acknowledgements and control packets, packet ids.
extension MQTTSession {
    func sendRaw(_ bytes: UnsafeRawBufferPointer) throws(MQTTError) {
        // Queued publishes go first: the wire keeps the order of the calls.
        if hasDeferredPublishes { try flushDeferredPublishes() }
        do {
            try transport.send(bytes, timeoutMs: configuration.sendTimeoutMs)
            lastSendMs = platform.monotonicMs()
        } catch {
            dropConnection()
            throw .transport(error)
        }
    }

    /// Publishes a message. QoS 1 messages are encoded into the in-flight arena and kept
    /// until their PUBACK; while disconnected they queue there and go out on reconnect.
    /// QoS 0 needs a connection. Returns the packet id (0 for QoS 0).
    ///
    /// - Parameters:
    ///   - topic: the topic name.
    ///   - payload: the message body (copied).
    ///   - qos: at most once or at least once.
    ///   - retain: the retain flag.
    /// - Returns: the packet id (0 for QoS 0).
    /// - Throws: `MQTTError`: `inflightWindowFull`, `notConnected` (QoS 0), `encoding`, `transport`.
    @discardableResult
    public func publish(topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, qos: MQTTQoS,
                        retain: Bool = false) throws(MQTTError) -> UInt16 {
        do throws(MQTTCodecError) { try MQTTEncoder.checkTopicName(topic) } catch { throw .encoding(error) }
        return try publish(checkedTopic: topic, payload: payload, qos: qos, retain: retain)
    }

    /// `publish` to a topic already checked with `MQTTEncoder.checkTopicName`: the hub layer
    /// checks the fixed part of its telemetry topic once and appends only percent-encoded bytes.
    @discardableResult
    package func publish(checkedTopic topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, qos: MQTTQoS,
                         retain: Bool = false) throws(MQTTError) -> UInt16 {
        if case .stopped = state { throw .notConnected }
        // One encoder call for both QoS: QoS 0 goes straight from the transmit buffer, QoS 1
        // is encoded into its in-flight slot.
        let target: UnsafeMutableRawBufferPointer
        var slot = -1
        var packetID: UInt16 = 0
        if qos == .atMostOnce {
            guard isConnected else { throw .notConnected }
            target = transmit
        } else {
            let size = MQTTEncoder.publishSize(topicLength: topic.count, payloadLength: payload.count, qos: .atLeastOnce)
            guard size <= inflight.arenaCapacity else { throw .encoding(.bufferTooSmall(needed: size)) }
            // A full window is known before a packet id is taken or anything is encoded (a full
            // arena with a free slot is found by `append`: rare, it only costs an unused id).
            guard inflight.hasFreeSlot else { throw .inflightWindowFull }
            guard let id = allocatePacketID(),
                  let (taken, bytes) = inflight.append(packetID: id, length: size) else { throw .inflightWindowFull }
            packetID = id
            slot = taken
            target = bytes
        }
        let length: Int
        do {
            length = try MQTTEncoder.publish(checkedTopic: topic, payload: payload, qos: qos, retain: retain,
                                             packetID: packetID, into: target)
        } catch {
            if slot >= 0 { inflight.remove(slot: slot) }
            throw .encoding(error)
        }
        if slot < 0 {
            try sendOrLose(UnsafeRawBufferPointer(rebasing: transmit[0..<length]))
        } else if isConnected {
            // A failed send is not an error for QoS 1: the message stays queued for resend.
            if configuration.batchesPublishes, inflight.hasFreeSlot {
                hasDeferredPublishes = true // written with the publish that fills the window, or by poll
            } else if hasDeferredPublishes {
                try? flushDeferredPublishes() // the queued ones, then this one
            } else {
                try? sendOrLose(inflight.packetForSending(slot: slot))
            }
        }
        return packetID
    }

    /// Subscribes to one or more filters; the SUBACK arrives as `.subscribed` from `poll`.
    ///
    /// - Parameter subscriptions: the filters and their QoS.
    /// - Returns: the request's packet id.
    /// - Throws: `MQTTError`: `notConnected`, `tooManyPendingRequests`, `encoding`, `transport`.
    @discardableResult
    public func subscribe(_ subscriptions: UnsafeBufferPointer<MQTTSubscription>) throws(MQTTError) -> UInt16 {
        try request { (id: UInt16) throws(MQTTCodecError) -> Int in
            try MQTTEncoder.subscribe(packetID: id, subscriptions, into: transmit)
        }
    }

    /// Unsubscribes from one or more filters; the UNSUBACK arrives as `.unsubscribed`.
    ///
    /// - Parameter filters: the filters to remove.
    /// - Returns: the request's packet id.
    /// - Throws: `MQTTError`: `notConnected`, `tooManyPendingRequests`, `encoding`, `transport`.
    @discardableResult
    public func unsubscribe(_ filters: UnsafeBufferPointer<UnsafeRawBufferPointer>) throws(MQTTError) -> UInt16 {
        try request { (id: UInt16) throws(MQTTCodecError) -> Int in
            try MQTTEncoder.unsubscribe(packetID: id, filters, into: transmit)
        }
    }

    func request(_ encode: (UInt16) throws(MQTTCodecError) -> Int) throws(MQTTError) -> UInt16 {
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
    func allocatePacketID() -> UInt16? {
        for _ in 0..<Int(UInt16.max) {
            nextPacketID = nextPacketID == UInt16.max ? 1 : nextPacketID + 1
            if inflight.contains(nextPacketID) { continue }
            if pendingCount == 0 || !isPending(nextPacketID) { return nextPacketID }
        }
        return nil
    }

    /// Sends; on failure marks the connection lost (reconnect follows) and rethrows.
    func sendOrLose(_ bytes: UnsafeRawBufferPointer) throws(MQTTError) {
        do {
            try sendRaw(bytes)
        } catch {
            lostPending = error
            throw error
        }
    }

    func sendPuback(_ id: UInt16) throws(MQTTError) {
        try sendControl { (bytes) throws(MQTTCodecError) -> Int in try MQTTEncoder.puback(packetID: id, into: bytes) }
    }

    /// Encodes a small control packet (at most 4 bytes) on the stack and sends it.
    func sendControl(_ encode: (UnsafeMutableRawBufferPointer) throws(MQTTCodecError) -> Int) throws(MQTTError) {
        var packet: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        try withUnsafeMutableBytes(of: &packet) { (bytes) throws(MQTTError) in
            let length: Int
            do throws(MQTTCodecError) { length = try encode(bytes) } catch { throw .encoding(error) }
            try sendRaw(UnsafeRawBufferPointer(rebasing: bytes[0..<length]))
        }
    }
}
