import Testing
@testable import TinyMQTT
import TinyPlatform

/// Faults found by the audit of the session: each test failed before its fix.
@Suite struct SessionFaultTests {
    /// A full window is refused before a packet id is taken: the ids of the messages that
    /// do go out stay consecutive (before, every refusal burned an id).
    @Test func fullWindowTakesNoPacketID() throws {
        let f = SessionFixture(window: 2)
        f.acceptConnections()
        try f.session.connect(f.options)
        let first = try f.publish("a"), second = try f.publish("b")
        #expect([first, second] == [1, 2])
        for _ in 0..<100 {
            let error = #expect(throws: MQTTError.self) { try f.publish("c") }
            guard case .inflightWindowFull = error else { Issue.record("\(String(describing: error))"); return }
        }
        f.transport.inbound.append([0x40, 2, 0, 1]) // PUBACK 1
        try f.poll(10)
        #expect(try f.publish("d") == 3)
    }

    /// Bytes that arrive in the same read as the CONNACK are dispatched by the next poll at
    /// once, without waiting for more input (before, they waited up to a keep-alive).
    @Test func packetsBehindTheConnackAreDispatchedAtOnce() throws {
        let f = SessionFixture(keepAlive: 0)
        f.transport.onOpen = { $0.inbound.append([0x20, 2, 1, 0, 0x30, 4, 0, 1, 0x74, 0x78]) } // CONNACK + PUBLISH t "x"
        try f.session.connect(f.options)
        let before = f.platform.now
        try f.poll(30_000)
        #expect(f.events == ["message(t,x,q0,id0)"])
        #expect(f.platform.now == before, "no wait on the virtual clock")
    }

    /// `start` connects from `poll`: transient failures are reported and retried with the
    /// backoff, `failingSinceMs` tells since when, and a success clears it.
    @Test func startRetriesTransientFailuresAndTracksTheStreak() throws {
        let f = SessionFixture(keepAlive: 0)
        f.platform.randomValues = [0]
        f.transport.openError = .connectionRefused
        let startedAt = f.platform.now
        f.session.start(f.options)
        #expect(f.session.failingSinceMs == nil)
        try f.poll(10)
        #expect(f.events == ["lost(transport(TinyPlatform.TransportError.connectionRefused))", "reconnect(500,1)"])
        #expect(f.session.failingSinceMs == startedAt)
        // CONNACK 3 (server unavailable) is transient as well.
        f.transport.openError = nil
        f.transport.onOpen = { $0.inbound.append([0x20, 2, 0, 3]) }
        f.events.removeAll()
        try f.poll(1_000)
        #expect(f.events == ["lost(connectionRefused(TinyMQTT.MQTTConnectReturnCode.serverUnavailable))", "reconnect(1000,2)"])
        #expect(f.session.failingSinceMs == startedAt, "the streak runs from its first attempt")
        f.acceptConnections(sessionPresent: false)
        f.events.removeAll()
        try f.poll(2_000)
        #expect(f.events == ["connected(false)"])
        #expect(f.session.failingSinceMs == nil)
    }

    /// A permanent refusal after `start` ends the session: thrown from `poll`, not retried.
    @Test func startStopsAtAPermanentRefusal() throws {
        let f = SessionFixture(keepAlive: 0)
        f.transport.onOpen = { $0.inbound.append([0x20, 2, 0, 5]) }
        f.session.start(f.options)
        for timeout: UInt32 in [10, 10_000] {
            let error = #expect(throws: MQTTError.self) { try f.poll(timeout) }
            guard case .connectionRefused(.notAuthorized) = error else { Issue.record("\(String(describing: error))"); return }
        }
        #expect(f.transport.opens == 1)
    }

    /// One deadline covers the whole attempt: a handshake that took 25 s leaves the CONNACK
    /// 5 s of the default 30, measured on the virtual clock.
    @Test func connectDeadlineCoversHandshakeAndConnack() {
        let f = SessionFixture(keepAlive: 0)
        f.transport.openDelayMs = 25_000
        let start = f.platform.now
        let error = #expect(throws: MQTTError.self) { try f.session.connect(f.options) }
        guard case .connackTimeout? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(f.platform.now - start == 30_000)
    }

    /// A transport that claims more bytes than it had room for is a broken transport: the
    /// connection is dropped, nothing is read out of bounds.
    @Test func transportOverclaimingBytesIsAFailureNotAnOverrun() throws {
        let f = SessionFixture(receive: 16, keepAlive: 0)
        f.acceptConnections()
        try f.session.connect(f.options)
        f.platform.randomValues = [0]
        f.transport.overclaim = 1_000
        f.transport.inbound.append([0x30])
        try f.poll(10)
        #expect(f.events.first?.hasPrefix("lost(transport(") == true)
    }
}
