import CTestSupport
import Testing
import TinyHub
@testable import TinyMQTT
import TinyPlatform
import TinyTLS

/// The hub client's telemetry send path on the simulated network (no faults): fixed properties
/// encoded once and sent with every message, a message's own properties after them, other topics
/// written after the ready telemetry topic without changing what the next message carries, an
/// outbox that refuses a message it could not send from there, a full in-flight window known
/// before anything is formatted, a telemetry-only client that subscribes to nothing, and no
/// allocation per message.
@Suite struct TelemetryTopicTests {
    typealias Client = HubClient<MQTTFace<SimulatedTransport, SimulatedClock>>

    final class Rig {
        let clock = SimulatedClock(seed: 1)
        let broker = SimulatedBroker(seed: 1, rates: .none)
        let transport: SimulatedTransport
        let buffers: HubBuffers
        let client: Client
        var acknowledged = 0
        var subscribed = 0

        init(telemetryOnly: Bool, window: Int = 4, topicBytes: Int? = nil) throws {
            transport = SimulatedTransport(seed: 1, clock: clock, broker: broker)
            var buffers = try #require(HubBuffers.allocate(maxMessage: 64, receive: 256, window: window))
            if let topicBytes {
                buffers.topic.deallocate()
                buffers.topic = .allocate(byteCount: topicBytes, alignment: 1)
            }
            self.buffers = buffers
            let configuration = try HubConfiguration(connectionString: TelemetryTopicTests.connectionString, storage: buffers.identity)
            client = telemetryOnly
                ? try HubClient(sendingTelemetryOnly: configuration, transport: transport, platform: clock, crypto: MbedTLSCrypto(), buffers: buffers)
                : try HubClient(configuration: configuration, transport: transport, platform: clock, crypto: MbedTLSCrypto(), buffers: buffers)
            client.start()
            try poll { self.client.isConnected }
        }

        deinit { buffers.deallocate() }

        /// Polls until `done` (at most 200 polls).
        func poll(until done: () -> Bool) throws {
            for _ in 0..<200 where !done() {
                try client.poll(timeoutMs: 100) { event in
                    switch event {
                    case .telemetryAcknowledged: self.acknowledged += 1
                    case .subscribed: self.subscribed += 1
                    default: break
                    }
                }
            }
            #expect(done())
        }

        func send(_ sequence: Int, system: TelemetrySystemProperties = TelemetrySystemProperties()) throws {
            let payload = Array("m\(sequence)".utf8)
            try payload.withUnsafeBytes { _ = try client.sendTelemetry($0, system: system) }
        }
    }

    static let connectionString = "HostName=sim.azure-devices.net;DeviceId=sim;SharedAccessKey=c2ltdWxhdGVkIGtleQ=="
    static let json = Array("application/json".utf8)
    static let utf8 = Array("utf-8".utf8)

    /// `$.ct` and `$.ce` for every message, set once.
    static func setContentProperties<T, P>(_ client: HubClient<MQTTFace<T, P>>) throws {
        try json.withUnsafeBytes { json in
            try utf8.withUnsafeBytes { utf8 in
                var system = TelemetrySystemProperties()
                system.contentType = json
                system.contentEncoding = utf8
                try client.setTelemetryProperties(system: system)
            }
        }
    }

    @Test func fixedPropertiesGoWithEveryMessageAndOwnOnesFollowThem() throws {
        let rig = try Rig(telemetryOnly: true)
        try Self.setContentProperties(rig.client)
        try rig.send(0)
        let id = Array("id-1".utf8)
        try id.withUnsafeBytes { id in
            var system = TelemetrySystemProperties()
            system.messageID = id
            try rig.send(1, system: system)
        }
        try rig.send(2)
        try rig.poll { rig.acknowledged == 3 }
        let fixed = "devices/sim/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8"
        #expect(rig.broker.receivedTopics == [fixed, fixed + "&%24.mid=id-1", fixed])
    }

    @Test func withoutFixedPropertiesTheTopicIsThePrefix() throws {
        let rig = try Rig(telemetryOnly: true)
        try rig.send(0)
        try rig.poll { rig.acknowledged == 1 }
        #expect(rig.broker.receivedTopics == ["devices/sim/messages/events/"])
    }

    @Test func otherTopicsDoNotChangeTheNextTelemetryTopic() throws {
        let rig = try Rig(telemetryOnly: false)
        try Self.setContentProperties(rig.client)
        try rig.send(0)
        let rid = Array("7".utf8)
        try rid.withUnsafeBytes { rid in
            try rig.client.respondToMethod(requestID: rid, status: 200, payload: UnsafeRawBufferPointer(start: nil, count: 0))
        }
        _ = try rig.client.requestTwin()
        try rig.send(1)
        try rig.poll { rig.acknowledged == 2 }
        #expect(rig.broker.receivedTopics.count == 2)
        #expect(Set(rig.broker.receivedTopics) == ["devices/sim/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8"])
    }

    @Test func aFullWindowIsKnownBeforeFormatting() throws {
        let rig = try Rig(telemetryOnly: true, window: 2)
        try Self.setContentProperties(rig.client)
        #expect(rig.client.hasInflightRoom(payloadCount: 2))
        try rig.send(0)
        try rig.send(1)
        #expect(!rig.client.hasInflightRoom(payloadCount: 2))
        #expect(throws: HubError.self) { try rig.send(2) }
        try rig.poll { rig.acknowledged == 2 }
        #expect(rig.client.hasInflightRoom(payloadCount: 2))
    }

    @Test func theWindowIsCheckedWithTheTopicBeforeTheFirstMessage() throws {
        // No message sent and no fixed properties: the question itself makes the ready topic
        // (the 28-byte prefix), and its answer is the one `sendTelemetry` then acts on.
        let rig = try Rig(telemetryOnly: true, window: 1)
        let capacity = rig.client.session.largestQueuedPublish
        var largest = 0
        while MQTTEncoder.publishSize(topicLength: 28, payloadLength: largest + 1, qos: .atLeastOnce) <= capacity { largest += 1 }
        #expect(!rig.client.hasInflightRoom(payloadCount: largest + 1))
        #expect(rig.client.hasInflightRoom(payloadCount: largest))
        let payload = Array("m".utf8) + [UInt8](repeating: 0x30, count: largest - 1) // "m00…0": message 0 to the broker
        try payload.withUnsafeBytes { _ = try rig.client.sendTelemetry($0) }
        try rig.poll { rig.acknowledged == 1 }
        #expect(rig.broker.receivedTopics == ["devices/sim/messages/events/"])
    }

    @Test func aTopicThatCannotBeMadeLeavesTheAnswerToSend() throws {
        // A topic buffer shorter than the prefix: the window has room, and sending says why it fails.
        let rig = try Rig(telemetryOnly: true, topicBytes: 20)
        #expect(rig.client.hasInflightRoom(payloadCount: 2))
        let payload: StaticString = "m0"
        do throws(HubError) {
            _ = try rig.client.sendTelemetry(UnsafeRawBufferPointer(start: payload.utf8Start, count: payload.utf8CodeUnitCount))
            Issue.record("sent with a 20-byte topic buffer")
        } catch {
            guard case .topic(.bufferTooSmall) = error else { Issue.record("\(error)"); return }
        }
        #expect(rig.broker.receivedTopics.isEmpty)
    }

    @Test func aTelemetryOnlyClientSubscribesToNothing() throws {
        let telemetryOnly = try Rig(telemetryOnly: true)
        try telemetryOnly.send(0)
        try telemetryOnly.poll { telemetryOnly.acknowledged == 1 }
        #expect(telemetryOnly.subscribed == 0)
        let full = try Rig(telemetryOnly: false)
        try full.poll { full.subscribed == 1 }
    }

    @Test func fixedPropertiesThatDoNotFitAreRefused() throws {
        let rig = try Rig(telemetryOnly: true, topicBytes: 48)
        #expect(throws: HubError.self) { try Self.setContentProperties(rig.client) }
        // The client still sends without them.
        try rig.send(0)
        try rig.poll { rig.acknowledged == 1 }
        #expect(rig.broker.receivedTopics == ["devices/sim/messages/events/"])
    }

    @Test func anOutboxRefusesAMessageItCouldNotSendFromTheScratchSpace() throws {
        // The ready topic (28-byte prefix + 38-byte fixed bag) stays at the buffer's start; a
        // stored message goes out as prefix + its whole bag from the space after it. With 120
        // bytes that space (54) holds no stored message, so `send` refuses it before storing it,
        // instead of storing one that would block the outbox; the client itself still sends.
        let region = UnsafeMutableRawBufferPointer.allocate(byteCount: 1_024, alignment: 8)
        defer { region.deallocate() }
        let outboxBuffers = try #require(OutboxBuffers.allocate(maxMessage: 64, window: 4))
        defer { outboxBuffers.deallocate() }
        let text: StaticString = "m0"
        let payload = UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        for (topicBytes, fits) in [(120, false), (256, true)] {
            let rig = try Rig(telemetryOnly: true, topicBytes: topicBytes)
            try Self.setContentProperties(rig.client)
            region.initializeMemory(as: UInt8.self, repeating: 0xFF)
            let outbox = try TelemetryOutbox(storage: OutboxMemoryStorage(region: region), buffers: outboxBuffers)
            var refusal: OutboxError?
            do throws(OutboxError) {
                try outbox.send(payload, through: rig.client)
            } catch {
                refusal = error
            }
            if fits {
                #expect(refusal == nil, "\(String(describing: refusal)) with \(topicBytes) topic bytes")
                for _ in 0..<200 where outbox.pendingCount > 0 { try outbox.poll(rig.client, timeoutMs: 100) { _ in } }
                #expect(outbox.pendingCount == 0)
                let topic = try #require(rig.broker.receivedTopics.first)
                #expect(topic.hasPrefix("devices/sim/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8&%24.mid="))
            } else {
                guard case .messageTooLarge(let size, let limit)? = refusal else { Issue.record("\(String(describing: refusal))"); continue }
                #expect(limit == 54 && size > limit && outbox.pendingCount == 0)
                try rig.send(1)
                try rig.poll { rig.acknowledged == 1 }
                #expect(rig.broker.receivedTopics == ["devices/sim/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8"])
            }
        }
    }

    @Test func sendingWithFixedPropertiesAllocatesNothing() throws {
        let ack = UnsafeMutableRawBufferPointer.allocate(byteCount: 4, alignment: 1)
        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 1)
        defer { ack.deallocate(); payload.deallocate() }
        payload.initializeMemory(as: UInt8.self, repeating: 0x61)
        let buffers = try #require(HubBuffers.allocate(maxMessage: 64, receive: 256, window: 8))
        defer { buffers.deallocate() }
        let configuration = try HubConfiguration(connectionString: Self.connectionString, storage: buffers.identity)
        let client = try HubClient(sendingTelemetryOnly: configuration, transport: AckingTransport(ack: ack), platform: SystemPlatform(),
                                   crypto: MbedTLSCrypto(), buffers: buffers)
        try client.connect()
        try Self.setContentProperties(client)
        var acknowledged = 0
        func run(_ count: Int) throws {
            for _ in 0..<count {
                if client.hasInflightRoom(payloadCount: payload.count) { _ = try client.sendTelemetry(UnsafeRawBufferPointer(payload)) }
                try client.poll(timeoutMs: 100) { event in
                    if case .telemetryAcknowledged = event { acknowledged += 1 }
                }
            }
        }
        try run(10) // warm-up: lazily created runtime metadata
        let before = cts_thread_allocations()
        try run(1_000)
        #expect(cts_thread_allocations() - before == 0, "heap allocations during 1,000 telemetry messages")
        #expect(acknowledged == 1_010)
    }
}
