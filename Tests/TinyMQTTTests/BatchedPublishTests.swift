import Testing
import TinyPlatform
@testable import TinyMQTT

/// `MQTTSessionConfiguration.batchesPublishes`: QoS 1 packets queued while the window has room
/// leave together, in order, with one transport send per contiguous run of the arena.
@Suite struct BatchedPublishTests {
    /// PUBLISH of one byte `payload` on topic "t" at QoS 1, DUP `dup`, as the session encodes it.
    func publishBytes(_ payload: Character, id: UInt16, dup: Bool = false) -> [UInt8] {
        [dup ? 0x3A : 0x32, 6, 0, 1, 0x74, UInt8(id >> 8), UInt8(id & 0xFF), payload.asciiValue!]
    }

    func batching(window: Int = 4, inflightBytes: Int = 1024) throws -> SessionFixture {
        let f = SessionFixture(inflightBytes: inflightBytes, window: window) { $0.batchesPublishes = true }
        f.acceptConnections()
        try f.session.connect(f.options)
        f.transport.sent.removeAll()
        return f
    }

    @Test func offByDefaultEachPublishIsSentAtOnce() throws {
        let f = SessionFixture()
        f.acceptConnections()
        try f.session.connect(f.options)
        f.transport.sent.removeAll()
        let a = try f.publish("a")
        let b = try f.publish("b")
        #expect(f.transport.sent == [publishBytes("a", id: a), publishBytes("b", id: b)])
    }

    @Test func thePublishThatFillsTheWindowSendsTheBurstInOneSend() throws {
        let f = try batching(window: 3)
        let a = try f.publish("a")
        let b = try f.publish("b")
        #expect(f.transport.sent.isEmpty, "room left in the window: queued")
        let c = try f.publish("c")
        #expect(f.transport.sent == [publishBytes("a", id: a) + publishBytes("b", id: b) + publishBytes("c", id: c)])
        #expect(f.session.inflightCount == 3)
    }

    @Test func pollSendsWhatIsQueuedBeforeItWaits() throws {
        let f = try batching()
        let a = try f.publish("a")
        let b = try f.publish("b")
        try f.poll(10)
        #expect(f.transport.sent == [publishBytes("a", id: a) + publishBytes("b", id: b)])
        f.transport.inbound.append([0x40, 2, 0, UInt8(a), 0x40, 2, 0, UInt8(b)])
        try f.poll()
        #expect(f.events == ["delivered(\(a))", "delivered(\(b))"])
        #expect(f.transport.sent.count == 1, "nothing sent twice")
    }

    @Test func anyOtherPacketGoesAfterTheQueuedOnes() throws {
        let f = try batching()
        let a = try f.publish("a")
        let topic = utf8("q"), body = utf8("0")
        try topic.withUnsafeBytes { t in try body.withUnsafeBytes { p in _ = try f.session.publish(topic: t, payload: p, qos: .atMostOnce) } }
        #expect(f.transport.sent == [publishBytes("a", id: a), [0x30, 4, 0, 1, 0x71, 0x30]], "the QoS 1 one first, then the QoS 0 one")
        let b = try f.publish("b")
        f.session.disconnect()
        #expect(f.transport.sent.suffix(2) == [publishBytes("b", id: b), [0xE0, 0]], "queued PUBLISH, then DISCONNECT")
    }

    @Test func aWrappedArenaTakesOneSendPerContiguousRun() throws {
        // Room for three 8-byte packets: a packet that finds no room after the newest goes back
        // to the start of the arena.
        let f = try batching(window: 4, inflightBytes: 24)
        let a = try f.publish("a") // offset 0
        let b = try f.publish("b") // offset 8
        try f.poll(10)
        #expect(f.transport.sent == [publishBytes("a", id: a) + publishBytes("b", id: b)])
        f.transport.inbound.append([0x40, 2, 0, UInt8(a)])
        try f.poll()
        f.transport.sent.removeAll()
        let c = try f.publish("c") // offset 16
        let d = try f.publish("d") // offset 0: after c in send order, before it in the arena
        try f.poll(10)
        #expect(f.transport.sent == [publishBytes("c", id: c), publishBytes("d", id: d)])
    }

    @Test func aSendThatFailsKeepsTheBurstForTheNextConnection() throws {
        let f = try batching()
        let a = try f.publish("a")
        let b = try f.publish("b")
        f.transport.sendError = .closed
        f.platform.randomValues = [0]
        try f.poll(10)
        #expect(f.events.contains("lost(transport(TinyPlatform.TransportError.closed))"))
        #expect(f.session.inflightCount == 2)
        f.transport.sendError = nil
        f.transport.sent.removeAll()
        try f.poll(5_000)
        #expect(f.events.last == "connected(true)")
        #expect(f.transport.sentTypes == [1, 3, 3], "CONNECT, then both PUBLISH, each once")
        // Handed to the transport once already (as a failed single send would be): DUP on the resend.
        #expect(f.transport.sent[1] == publishBytes("a", id: a, dup: true))
        #expect(f.transport.sent[2] == publishBytes("b", id: b, dup: true))
    }

    @Test func reconnectSendsTheQueuedOnesBeforeDisconnectAndOnceMoreAfter() throws {
        let f = try batching()
        let a = try f.publish("a")
        f.session.reconnect()
        #expect(f.transport.sent == [publishBytes("a", id: a), [0xE0, 0]])
        f.transport.sent.removeAll()
        try f.poll()
        #expect(f.transport.sentTypes == [1, 3])
        #expect(f.transport.sent[1] == publishBytes("a", id: a, dup: true))
        let b = try f.publish("b")
        try f.poll(10)
        #expect(f.transport.sent.last == publishBytes("b", id: b), "queued again after the reconnect, sent by poll")
    }
}
