import CTestSupport
import Testing
import TinyPlatform
import TinyWebSocket

/// After the upgrade, sending, receiving and answering pings work inside the buffers allocated
/// at init: no heap.
@Test func steadyStateAllocatesNothing() throws {
    let inner = LoopingInner()
    let transport = try WebSocketTransport(over: inner, configuration: WebSocketConfiguration(host: "hub.azure-devices.net"))
    try transport.open(timeoutMs: 1_000)
    let packet = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 100, alignment: 1)
    defer { packet.deallocate(); buffer.deallocate() }
    packet.initializeMemory(as: UInt8.self, repeating: 0x30)
    var received = 0
    func sends(_ count: Int) throws {
        for _ in 0..<count { try transport.send(UnsafeRawBufferPointer(packet), timeoutMs: 1_000) }
    }
    func receives(_ count: Int) throws {
        for _ in 0..<count { received += try transport.receive(into: buffer, timeoutMs: 0) }
    }
    // The counter must see allocations, or the zero below proves nothing.
    let probeStart = cts_thread_allocations()
    let probe = [UInt8](repeating: 1, count: Int(probeStart % 7) + 100)
    #expect(cts_thread_allocations() > probeStart && probe.count >= 100)
    try sends(10)
    try receives(10)
    let before = cts_thread_allocations()
    try sends(1_000)
    let middle = cts_thread_allocations()
    try receives(1_000)
    let after = cts_thread_allocations()
    #expect(middle - before == 0, "heap allocations during 1,000 sends")
    #expect(after - middle == 0, "heap allocations during 1,000 receives (pongs included)")
    #expect(received > 1_000 && inner.pongs > 100 && inner.frames > 1_000)
    #expect(transport.isOpen)
}

/// The server side without allocation after the upgrade: frames the client sends are counted,
/// and receive hands out a preallocated script of binary frames and pings, over and over.
final class LoopingInner: Transport {
    let script: UnsafeMutableRawBufferPointer
    var at = 0
    var answer: [UInt8] = []
    var answered = 0
    var frames = 0
    var pongs = 0
    private(set) var isOpen = false

    init() {
        // A 7-byte binary frame, then a ping with 2 bytes: 13 bytes, handed out 20 at a time.
        let bytes: [UInt8] = [0x82, 0x05, 1, 2, 3, 4, 5, 0x89, 0x02, 0xAB, 0xCD]
        script = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        script.copyBytes(from: bytes)
    }
    deinit { script.deallocate() }

    func open(timeoutMs: Int32) throws(TransportError) { isOpen = true; answer = []; answered = 0 }
    func send(_ bytes: UnsafeRawBufferPointer, timeoutMs: Int32) throws(TransportError) {
        if bytes.count > 4, bytes[0] == 0x47 { // "GET ": the upgrade request (frames start with 0x8x)
            let key = ScriptedInner.header("Sec-WebSocket-Key", in: Array(bytes))!
            answer = ScriptedInner.okAnswer(key: key)
            return
        }
        frames += 1
        if bytes[0] == 0x8A { pongs += 1 }
    }
    func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMs: Int32) throws(TransportError) -> Int {
        if answered < answer.count {
            let n = min(buffer.count, answer.count - answered)
            for i in 0..<n { buffer[i] = answer[answered + i] }
            answered += n
            return n
        }
        let n = min(buffer.count, 20)
        for i in 0..<n {
            buffer[i] = script[at]
            at = (at + 1) % script.count
        }
        return n
    }
    func close() { isOpen = false }
}
