import CTestSupport
import Testing
@testable import TinyMQTT
import TinyPlatform

/// The session must not touch the heap in the steady state: publishing, receiving
/// acknowledgements and keep-alive all work inside the caller's buffers.
@Suite struct AllocationTests {
    @Test func thousandQoS1PublishesAllocateNothing() throws {
        let f = SessionFixture(inflightBytes: 4096, window: 16)
        f.acceptConnections()
        try f.session.connect(f.options)
        let topic = UnsafeMutableRawBufferPointer.allocate(byteCount: 29, alignment: 1)
        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
        let ack = UnsafeMutableRawBufferPointer.allocate(byteCount: 4, alignment: 1)
        defer { topic.deallocate(); payload.deallocate(); ack.deallocate() }
        topic.copyBytes(from: utf8("devices/dev1/messages/events/"))
        payload.initializeMemory(as: UInt8.self, repeating: 0x61)
        // A transport that answers each PUBLISH with its PUBACK without allocating.
        let echo = AckingTransport(ack: ack)
        let buffers = MQTTBuffers.allocate(transmit: 256, receive: 256, inflightBytes: 4096, inflightWindow: 16)!
        defer { buffers.deallocate() }
        let session = MQTTSession(transport: echo, platform: f.platform, buffers: buffers)
        try session.connect(f.options)
        var delivered = 0
        func run(_ count: Int) throws {
            for _ in 0..<count {
                _ = try session.publish(topic: UnsafeRawBufferPointer(topic), payload: UnsafeRawBufferPointer(payload), qos: .atLeastOnce)
                try session.poll(timeoutMs: 100) { event in
                    if case .delivered = event { delivered += 1 }
                }
            }
        }
        // The counter itself must see allocations, or the zero below proves nothing.
        let probeStart = cts_thread_allocations()
        let probe = [UInt8](repeating: 1, count: Int(probeStart % 7) + 100)
        #expect(cts_thread_allocations() > probeStart && probe.count >= 100)
        try run(10) // warm-up: lazily initialised runtime metadata
        let before = cts_thread_allocations()
        try run(1_000)
        let after = cts_thread_allocations()
        #expect(delivered == 1_010)
        #expect(after - before == 0, "heap allocations during 1,000 publishes")
    }
}

/// Replies to every QoS 1 PUBLISH with a PUBACK from a preallocated buffer.
final class AckingTransport: TinyPlatform.Transport {
    let ack: UnsafeMutableRawBufferPointer
    var pendingAck = false
    private(set) var isOpen = false
    init(ack: UnsafeMutableRawBufferPointer) { self.ack = ack }
    func open(timeoutMs: Int32) throws(TinyPlatform.TransportError) {
        isOpen = true
        ack[0] = 0x20; ack[1] = 2; ack[2] = 0; ack[3] = 0 // CONNACK first
        pendingAck = true
    }
    func send(_ bytes: UnsafeRawBufferPointer, timeoutMs: Int32) throws(TinyPlatform.TransportError) {
        if bytes[0] & 0xF6 == 0x32 { // PUBLISH QoS 1: id after the 2-byte topic length + topic
            let header = bytes[1] & 0x80 == 0 ? 2 : 3
            let topicLength = Int(bytes[header]) << 8 | Int(bytes[header + 1])
            let at = header + 2 + topicLength
            ack[0] = 0x40; ack[1] = 2; ack[2] = bytes[at]; ack[3] = bytes[at + 1]
            pendingAck = true
        }
    }
    func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMs: Int32) throws(TinyPlatform.TransportError) -> Int {
        guard pendingAck else { return 0 }
        pendingAck = false
        for i in 0..<4 { buffer[i] = ack[i] }
        return 4
    }
    func close() { isOpen = false }
}
