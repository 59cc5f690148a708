import Testing
@testable import TinyMQTT
import TinyPlatform

@Suite struct SessionTests {
    @Test func connectSendsConnectAndReturnsSessionPresent() throws {
        let f = SessionFixture()
        f.acceptConnections(sessionPresent: true)
        #expect(try f.session.connect(f.options) == true)
        #expect(f.session.isConnected)
        #expect(f.transport.sentTypes == [1])
        #expect(f.transport.sent[0][9] == 0x00, "clean session 0")
    }

    @Test func permanentRefusalIsNotRetried() throws {
        let f = SessionFixture()
        f.transport.onOpen = { $0.inbound.append([0x20, 2, 0, 5]) }
        do {
            try f.session.connect(f.options)
            Issue.record("connect succeeded")
        } catch {
            guard case .connectionRefused(.notAuthorized) = error else { Issue.record("\(error)"); return }
        }
        #expect(f.session.refusal == .notAuthorized)
        let pollError = #expect(throws: MQTTError.self) { try f.poll(10_000) }
        guard case .connectionRefused(.notAuthorized)? = pollError else { Issue.record("\(String(describing: pollError))"); return }
        #expect(f.transport.opens == 1, "no retry storm after an authentication failure")
    }

    @Test func connackTimeout() {
        let f = SessionFixture()
        do {
            try f.session.connect(f.options)
            Issue.record("connected without CONNACK")
        } catch {
            guard case .connackTimeout = error else { Issue.record("\(error)"); return }
        }
        #expect(!f.transport.isOpen)
    }

    @Test func firstPacketMustBeConnack() {
        let f = SessionFixture()
        f.transport.onOpen = { $0.inbound.append([0xD0, 0]) }
        do {
            try f.session.connect(f.options)
            Issue.record("connected")
        } catch {
            guard case .protocolViolation = error else { Issue.record("\(error)"); return }
        }
    }

    @Test func keepAliveSendsPingAndSurvivesWithPingresp() throws {
        let f = SessionFixture(keepAlive: 5)
        f.acceptConnections()
        try f.session.connect(f.options)
        try f.poll(4_000)
        #expect(f.transport.sentTypes == [1], "no ping before the keep-alive period")
        try f.poll(2_000)
        #expect(f.transport.sentTypes == [1, 12], "PINGREQ after 5 s idle")
        f.transport.inbound.append([0xD0, 0])
        f.transport.answerPings = true
        for _ in 0..<12 { try f.poll(5_000) }
        #expect(f.session.isConnected)
        #expect(f.transport.sentTypes.filter { $0 == 12 }.count >= 6, "a PINGREQ every idle keep-alive period")
        #expect(!f.events.contains { $0.hasPrefix("lost") })
    }

    @Test func missingPingrespLosesTheConnection() throws {
        let f = SessionFixture(keepAlive: 5) { $0.pingTimeoutMs = 3_000 }
        f.acceptConnections()
        try f.session.connect(f.options)
        f.platform.randomValues = [0]
        for _ in 0..<5 { try f.poll(2_000) }
        #expect(f.events.contains("lost(pingTimeout)"))
        #expect(f.events.contains { $0.hasPrefix("reconnect(") })
    }

    @Test func qos1PublishIsKeptUntilPuback() throws {
        let f = SessionFixture()
        f.acceptConnections()
        try f.session.connect(f.options)
        let id = try f.publish("a")
        #expect(id != 0)
        #expect(f.session.inflightCount == 1)
        #expect(f.transport.sent.last == [0x32, 6, 0, 1, 0x74, UInt8(id >> 8), UInt8(id & 0xFF), 0x61])
        f.transport.inbound.append([0x40, 2, UInt8(id >> 8), UInt8(id & 0xFF)])
        try f.poll()
        #expect(f.events == ["delivered(\(id))"])
        #expect(f.session.inflightCount == 0)
    }

    @Test func windowFullIsReportedAndIdsAreUnique() throws {
        let f = SessionFixture(window: 3)
        f.acceptConnections()
        try f.session.connect(f.options)
        let ids = [try f.publish("1"), try f.publish("2"), try f.publish("3")]
        #expect(Set(ids).count == 3 && !ids.contains(0))
        let full = #expect(throws: MQTTError.self) { try f.publish("4") }
        guard case .inflightWindowFull? = full else { Issue.record("\(String(describing: full))"); return }
        // Out-of-order PUBACK frees a slot.
        f.transport.inbound.append([0x40, 2, 0, UInt8(ids[1])])
        try f.poll()
        let fourth = try f.publish("4")
        #expect(!ids.contains(fourth) || fourth == ids[1])
        #expect(f.session.inflightCount == 3)
    }

    @Test func packetIDsSkipZeroAndIdsInFlight() throws {
        let f = SessionFixture(window: 2)
        f.acceptConnections()
        try f.session.connect(f.options)
        let first = try f.publish("keep")  // stays in flight the whole time
        var seen: Set<UInt16> = []
        for _ in 0..<70_000 {
            let id = try f.publish("x")
            #expect(id != 0)
            #expect(id != first)
            seen.insert(id)
            f.transport.inbound.append([0x40, 2, UInt8(id >> 8), UInt8(id & 0xFF)])
            try f.poll()
        }
        #expect(seen.count == 65_534, "every id but 0 and the one in flight")
        f.transport.sent.removeAll(keepingCapacity: true)
    }

    @Test func unackedMessagesAreResentWithDupAfterReconnect() throws {
        let f = SessionFixture()
        f.acceptConnections(sessionPresent: true)
        try f.session.connect(f.options)
        let a = try f.publish("a")
        let b = try f.publish("b")
        f.transport.inbound.append([0x40, 2, 0, UInt8(a)])
        try f.poll()
        f.transport.receiveError = .closed
        f.platform.randomValues = [0]
        try f.poll()
        #expect(f.events.contains("lost(transport(TinyPlatform.TransportError.closed))"))
        f.transport.sent.removeAll()
        try f.poll(5_000)
        #expect(f.events.last == "connected(true)")
        #expect(f.transport.sentTypes == [1, 3], "CONNECT, then the unacked PUBLISH")
        #expect(f.transport.sent[1] == [0x3A, 6, 0, 1, 0x74, 0, UInt8(b), 0x62], "DUP=1, same id, same payload")
    }

    @Test func publishWhileDisconnectedQueuesAndSendsOnReconnect() throws {
        let f = SessionFixture()
        f.acceptConnections(sessionPresent: false)
        try f.session.connect(f.options)
        f.transport.receiveError = .closed
        try f.poll()
        let id = try f.publish("queued")
        f.transport.sent.removeAll()
        try f.poll(5_000)
        #expect(f.transport.sentTypes == [1, 3])
        #expect(f.transport.sent[1][0] == 0x32, "first transmission: DUP stays 0")
        #expect(f.transport.sent[1][6] == UInt8(id))
    }

    @Test func inboundQoS1IsAcknowledgedAfterTheHandler() throws {
        let f = SessionFixture()
        f.acceptConnections()
        try f.session.connect(f.options)
        f.transport.inbound.append([0x32, 8, 0, 1, 0x74, 0, 42, 0x68, 0x69, 0x21])
        var sentDuringHandler = -1
        try f.session.poll(timeoutMs: 1_000) { event in
            if case .message(let m) = event {
                #expect(m.payload.array == utf8("hi!"))
                sentDuringHandler = f.transport.sent.count
            }
        }
        #expect(sentDuringHandler == 1, "no PUBACK before the application had the message")
        #expect(f.transport.sent.last == [0x40, 2, 0, 42])
    }

    @Test func packetsSplitAcrossReadsAndCoalescedAreAllDelivered() throws {
        let f = SessionFixture()
        f.acceptConnections()
        try f.session.connect(f.options)
        let stream: [UInt8] = [0x30, 4, 0, 1, 0x74, 0x41] + [0x30, 4, 0, 1, 0x74, 0x42] + [0xD0, 0] + [0x30, 4, 0, 1, 0x74, 0x43]
        for byte in stream { f.transport.inbound.append([byte]) }
        for _ in 0..<20 { try f.poll(10) }
        #expect(f.events == ["message(t,A,q0,id0)", "message(t,B,q0,id0)", "message(t,C,q0,id0)"])
        f.events.removeAll()
        f.transport.inbound.append(stream)
        try f.poll(10)
        #expect(f.events == ["message(t,A,q0,id0)", "message(t,B,q0,id0)", "message(t,C,q0,id0)"])
    }

    @Test func oversizedPacketIsDrainedReportedAndAcknowledged() throws {
        let f = SessionFixture(receive: 64)
        f.acceptConnections()
        try f.session.connect(f.options)
        var big: [UInt8] = [0x32, 0x85, 0x01, 0, 1, 0x74, 0x01, 0x02] // remaining length 133
        big += [UInt8](repeating: 0x5A, count: 133 - 5)
        let after: [UInt8] = [0x30, 4, 0, 1, 0x74, 0x4F]
        f.transport.inbound.append(big + after)
        for _ in 0..<5 { try f.poll(10) }
        #expect(f.events == ["oversized(3,136)", "message(t,O,q0,id0)"])
        #expect(f.transport.sent.last == [0x40, 2, 1, 2], "QoS 1 oversized PUBLISH still acknowledged")
        #expect(f.session.isConnected, "the connection survives")
    }

    @Test func garbageFromBrokerClosesConnectionButKeepsQueuedMessages() throws {
        let f = SessionFixture()
        f.acceptConnections()
        try f.session.connect(f.options)
        let id = try f.publish("keep me")
        f.transport.inbound.append([0x34, 5, 0, 1, 0x74, 0, 1]) // QoS 2 PUBLISH
        f.platform.randomValues = [0]
        try f.poll()
        #expect(f.events.first == "lost(protocolViolation(TinyMQTT.MQTTCodecError.qos2NotSupported))")
        #expect(f.session.inflightCount == 1)
        f.transport.sent.removeAll()
        try f.poll(5_000)
        #expect(f.transport.sent.last?[6] == UInt8(id))
    }

    @Test func subscribeAckMatchingAndTimeout() throws {
        let f = SessionFixture() { $0.ackTimeoutMs = 2_000 }
        f.acceptConnections()
        try f.session.connect(f.options)
        let filter = utf8("c/#")
        let id = try filter.withUnsafeBytes { raw in
            try [MQTTSubscription(filter: raw, qos: .atLeastOnce)].withUnsafeBufferPointer { try f.session.subscribe($0) }
        }
        f.transport.inbound.append([0x90, 3, 0, UInt8(id &+ 1), 1]) // wrong id: ignored
        f.transport.inbound.append([0x90, 3, 0, UInt8(id), 1])
        try f.poll()
        #expect(f.events == ["subscribed(\(id),[1])"])
        let second = try filter.withUnsafeBytes { raw in
            try [raw].withUnsafeBufferPointer { try f.session.unsubscribe($0) }
        }
        try f.poll(1_000)
        try f.poll(1_500)
        // An unanswered request means a deaf connection: it is reported and dropped, and the
        // session reconnects (the application subscribes again on `.connected`).
        #expect(Array(f.events.dropFirst().prefix(3)) == ["ackTimedOut(\(second))", "lost(ackTimeout)", "reconnect(500,1)"])
        #expect(!f.session.isConnected)
        f.platform.randomValues = [0]
        try f.poll(2_000)
        #expect(f.events.last == "connected(true)")
    }

    @Test func reconnectBackoffGrowsWithJitterWithinBounds() throws {
        let f = SessionFixture { $0.backoff = Backoff(baseMs: 100, capMs: 1_000) }
        f.acceptConnections()
        try f.session.connect(f.options)
        f.transport.openError = .connectionRefused
        f.platform.randomValues = [UInt32.max]
        f.transport.receiveError = .closed
        for _ in 0..<8 { try f.poll(2_000) }
        let delays = f.events.compactMap { e -> Int? in
            guard e.hasPrefix("reconnect(") else { return nil }
            return Int(e.dropFirst(10).split(separator: ",")[0])
        }
        #expect(delays.count >= 5)
        // d = min(1000, 100 x 2^(n-1)); the delay lies in [d/2, d].
        let ceilings = [100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000]
        for (i, d) in delays.enumerated() {
            #expect(d >= ceilings[i] / 2 && d <= ceilings[i], "attempt \(i + 1): \(d)")
        }
        #expect(!f.session.isConnected)
        f.transport.openError = nil
        try f.poll(2_000)
        try f.poll(2_000)
        #expect(f.session.isConnected, "reconnects once the broker is back")
    }

    /// Values worked out by hand from the rule: retry n waits uniform in [d/2, d],
    /// d = min(cap, base x 2^(n-1)); `random % (d - d/2 + 1)` picks the point.
    @Test func backoffPolicy() {
        let policy = Backoff(baseMs: 500, capMs: 8_000)
        #expect(policy.ceiling(attempt: 1) == 500)
        #expect(policy.ceiling(attempt: 3) == 2_000)
        #expect(policy.ceiling(attempt: 40) == 8_000)
        #expect(policy.ceiling(attempt: UInt32.max) == 8_000)
        #expect(policy.delay(attempt: 1, random: 0) == 250, "the first retry is jittered too")
        #expect(policy.delay(attempt: 1, random: 250) == 500)
        #expect(policy.delay(attempt: 3, random: 0) == 1_000)
        #expect(policy.delay(attempt: 3, random: 1_000) == 2_000)
        #expect(policy.delay(attempt: 3, random: 1_001) == 1_000)
        #expect(policy.delay(attempt: 9, random: UInt32.max) == 4_000 + 4_294_967_295 % 4_001)
        let defaults = Backoff()
        #expect(defaults.ceiling(attempt: 1) == 1_000 && defaults.ceiling(attempt: 7) == 60_000)
        #expect(Backoff(baseMs: 1, capMs: 1).delay(attempt: 5, random: 7) == 1)
    }

    /// A broker that accepts and drops at once must not get a reconnect at the first
    /// retry's delay forever: the attempt counter only resets after a connection stayed
    /// up for `stableConnectionMs`.
    @Test func attemptCounterResetsOnlyAfterAStableConnection() throws {
        let f = SessionFixture(keepAlive: 0) { $0.backoff = Backoff(baseMs: 1_000, capMs: 60_000); $0.stableConnectionMs = 60_000 }
        f.acceptConnections()
        try f.session.connect(f.options)
        f.platform.randomValues = [0]
        var attempts: [String] = []
        for _ in 0..<4 {
            f.transport.receiveError = .closed
            f.events.removeAll()
            try f.poll(10)                      // lost, reconnect scheduled
            attempts += f.events.filter { $0.hasPrefix("reconnect(") }
            try f.poll(120_000)                 // waits out the delay, reconnects (accepted)
            #expect(f.session.isConnected)
        }
        #expect(attempts == ["reconnect(500,1)", "reconnect(1000,2)", "reconnect(2000,3)", "reconnect(4000,4)"])
        // Up for a minute: the next loss starts from the first retry again.
        try f.poll(61_000)
        f.transport.receiveError = .closed
        f.events.removeAll()
        try f.poll(10)
        #expect(f.events.filter { $0.hasPrefix("reconnect(") } == ["reconnect(500,1)"])
    }

    /// `poll(timeoutMs: 0)` while waiting to reconnect, on a clock that ticks between two
    /// reads: the wait is computed without underflow (it trapped before).
    @Test func waitingToReconnectOnATickingClockNeverTraps() throws {
        let f = SessionFixture()
        f.acceptConnections()
        try f.session.connect(f.options)
        f.platform.randomValues = [0]
        f.transport.receiveError = .closed
        try f.poll(0)
        #expect(f.events.contains { $0.hasPrefix("reconnect(") })
        f.platform.tickPerRead = 1
        for _ in 0..<50 { try f.poll(0) }
        #expect(f.platform.sleeps.allSatisfy { $0 <= 1_000 })
    }

    /// Clock values near the top of the range: deadlines saturate instead of overflowing.
    @Test func clockNearItsMaximumNeverTraps() throws {
        let f = SessionFixture(keepAlive: 60)
        f.acceptConnections()
        f.platform.now = UInt64.max - 500
        try f.session.connect(f.options)
        _ = try f.publish("late")
        try f.poll(UInt32.max)
        f.platform.randomValues = [0]
        f.transport.receiveError = .closed
        try f.poll(UInt32.max)
        #expect(f.events.contains { $0.hasPrefix("lost(") })
    }

    @Test func disconnectSendsDisconnectAndStopsReconnecting() throws {
        let f = SessionFixture()
        f.acceptConnections()
        try f.session.connect(f.options)
        f.session.disconnect()
        #expect(f.transport.sentTypes == [1, 14])
        #expect(!f.transport.isOpen)
        let error = #expect(throws: MQTTError.self) { try f.poll() }
        guard case .notConnected? = error else { Issue.record("\(String(describing: error))"); return }
    }

    /// The session counts pending SUBSCRIBE/UNSUBSCRIBE requests to skip scans when there
    /// are none; acks, timeouts and a lost connection must all keep that count right, or a
    /// later request would never time out or its id could be reused.
    @Test func pendingRequestsStayTrackedAcrossAcksTimeoutsAndLosses() throws {
        let f = SessionFixture(keepAlive: 0) { $0.ackTimeoutMs = 1_000 }
        f.acceptConnections()
        try f.session.connect(f.options)
        let filter = utf8("c/#")
        func subscribe() throws -> UInt16 {
            try filter.withUnsafeBytes { raw in
                try [MQTTSubscription(filter: raw, qos: .atLeastOnce)].withUnsafeBufferPointer { try f.session.subscribe($0) }
            }
        }
        // Acknowledged: the next request still times out.
        let first = try subscribe()
        f.transport.inbound.append([0x90, 3, 0, UInt8(first), 1])
        try f.poll(10)
        let second = try subscribe()
        #expect(second != first)
        try f.poll(600)
        try f.poll(600)
        #expect(Array(f.events.prefix(3)) == ["subscribed(\(first),[1])", "ackTimedOut(\(second))", "lost(ackTimeout)"])
        for _ in 0..<5 where !f.session.isConnected { try f.poll(1_000) }
        #expect(f.session.isConnected)
        // Lost with two outstanding: both reported, and a new request times out again.
        f.events.removeAll()
        let third = try subscribe(), fourth = try subscribe()
        let published = try f.publish("x")
        #expect(![third, fourth].contains(published), "ids of pending requests are not reused")
        f.transport.receiveError = .closed
        f.platform.randomValues = [0]
        try f.poll(10)
        #expect(f.events.filter { $0.hasPrefix("ackTimedOut") }.sorted() == ["ackTimedOut(\(third))", "ackTimedOut(\(fourth))"].sorted())
        f.transport.receiveError = nil
        for _ in 0..<5 where !f.session.isConnected { try f.poll(1_000) }
        #expect(f.session.isConnected)
        f.events.removeAll()
        let fifth = try subscribe()
        try f.poll(600)
        try f.poll(600)
        #expect(f.events.contains("ackTimedOut(\(fifth))") && f.events.contains("lost(ackTimeout)"))
        for _ in 0..<5 where !f.session.isConnected { try f.poll(1_000) }
        #expect(f.session.isConnected)
        // Eight requests fill the table; a ninth is refused, and one ack makes room again.
        f.events.removeAll()
        var ids: [UInt16] = []
        for _ in 0..<8 { ids.append(try subscribe()) }
        let refused = #expect(throws: MQTTError.self) { try subscribe() }
        guard case .tooManyPendingRequests? = refused else { Issue.record("\(String(describing: refused))"); return }
        f.transport.inbound.append([0x90, 3, 0, UInt8(ids[3]), 1])
        try f.poll(10)
        let again = try subscribe()
        #expect(!ids.contains(again) || again == ids[3])
    }
}
