import TinyMQTT
import TinyPlatform

/// A clock that only moves when told to (or when the session sleeps / waits).
final class FakePlatform: Platform {
    var now: UInt64 = 1_000_000
    var wall: Int64 = 1_700_000_000
    var randomValues: [UInt32] = []
    var randomIndex = 0
    var sleeps: [UInt32] = []

    /// Milliseconds the clock moves on every read (a clock that ticks between two reads).
    var tickPerRead: UInt64 = 0

    func monotonicMs() -> UInt64 {
        defer { now += tickPerRead }
        return now
    }
    func wallSeconds() -> Int64 { wall + Int64(now / 1000) }
    func random32() -> UInt32 {
        guard !randomValues.isEmpty else { return 0 }
        defer { randomIndex += 1 }
        return randomValues[randomIndex % randomValues.count]
    }
    func sleep(ms: UInt32) {
        sleeps.append(ms)
        now += UInt64(ms)
    }
}

/// A transport whose peer is a script: inbound chunks queued by the test, outbound
/// packets recorded. Waiting for input advances the fake clock by the full timeout.
final class ScriptedTransport: Transport {
    let platform: FakePlatform
    var inbound: [[UInt8]] = []
    var sent: [[UInt8]] = []
    var opens = 0
    var closes = 0
    var openError: TransportError? = nil
    var receiveError: TransportError? = nil
    var sendError: TransportError? = nil
    /// Called on each open; may queue a CONNACK, etc.
    var onOpen: ((ScriptedTransport) -> Void)? = nil
    private(set) var isOpen = false

    init(platform: FakePlatform) { self.platform = platform }

    /// Milliseconds each open takes on the fake clock (a slow TCP + TLS handshake).
    var openDelayMs: UInt64 = 0

    func open(timeoutMs: Int32) throws(TransportError) {
        opens += 1
        platform.now += min(openDelayMs, UInt64(max(0, timeoutMs)))
        if let openError { throw openError }
        isOpen = true
        onOpen?(self)
    }

    func send(_ bytes: UnsafeRawBufferPointer, timeoutMs: Int32) throws(TransportError) {
        guard isOpen else { throw .notConnected }
        if let sendError { isOpen = false; throw sendError }
        sent.append(Array(bytes))
        if answerPings, bytes.count == 2, bytes[0] == 0xC0 { inbound.append([0xD0, 0]) }
    }

    /// Answer every PINGREQ with a PINGRESP, like a live broker.
    var answerPings = false

    func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMs: Int32) throws(TransportError) -> Int {
        guard isOpen else { throw .notConnected }
        if let receiveError { self.receiveError = nil; isOpen = false; throw receiveError }
        guard !inbound.isEmpty else {
            platform.now += UInt64(max(0, timeoutMs))
            return 0
        }
        var chunk = inbound.removeFirst()
        let n = min(chunk.count, buffer.count)
        for i in 0..<n { buffer[i] = chunk[i] }
        if n < chunk.count {
            chunk.removeFirst(n)
            inbound.insert(chunk, at: 0)
        }
        return overclaim ?? n
    }

    /// When set, `receive` reports this many bytes whatever it wrote (a broken transport).
    var overclaim: Int? = nil

    func close() {
        if isOpen { closes += 1 }
        isOpen = false
    }

    /// Types of the packets sent so far (high nibble of the first byte).
    var sentTypes: [UInt8] { sent.map { $0[0] >> 4 } }
}

/// A session wired to fakes, with buffers freed at the end of the test.
final class SessionFixture {
    let platform = FakePlatform()
    let transport: ScriptedTransport
    let buffers: MQTTBuffers
    let session: MQTTSession<ScriptedTransport, FakePlatform>
    let clientID = UnsafeMutableRawBufferPointer.allocate(byteCount: 4, alignment: 1)
    var events: [String] = []

    init(receive: Int = 256, inflightBytes: Int = 1024, window: Int = 4, keepAlive: UInt16 = 60,
         configure: (inout MQTTSessionConfiguration) -> Void = { _ in }) {
        transport = ScriptedTransport(platform: platform)
        buffers = MQTTBuffers.allocate(transmit: 512, receive: receive, inflightBytes: inflightBytes, inflightWindow: window)!
        var configuration = MQTTSessionConfiguration()
        configure(&configuration)
        session = MQTTSession(transport: transport, platform: platform, buffers: buffers, configuration: configuration)
        clientID.copyBytes(from: utf8("dev1"))
        self.keepAlive = keepAlive
    }

    let keepAlive: UInt16

    deinit {
        buffers.deallocate()
        clientID.deallocate()
    }

    var options: MQTTConnectOptions {
        MQTTConnectOptions(clientID: UnsafeRawBufferPointer(clientID), cleanSession: false, keepAliveSeconds: keepAlive)
    }

    /// Makes every open answer with CONNACK(sessionPresent).
    func acceptConnections(sessionPresent: Bool = true) {
        transport.onOpen = { $0.inbound.append([0x20, 2, sessionPresent ? 1 : 0, 0]) }
    }

    /// Polls once and records events as short strings.
    func poll(_ timeoutMs: UInt32 = 1_000) throws(MQTTError) {
        try session.poll(timeoutMs: timeoutMs) { event in
            switch event {
            case .connected(let present): events.append("connected(\(present))")
            case .message(let m): events.append("message(\(String(decoding: m.topic, as: UTF8.self)),\(String(decoding: m.payload, as: UTF8.self)),q\(m.qos.rawValue),id\(m.packetID))")
            case .delivered(let id): events.append("delivered(\(id))")
            case .subscribed(let id, let codes): events.append("subscribed(\(id),\(Array(codes)))")
            case .unsubscribed(let id): events.append("unsubscribed(\(id))")
            case .ackTimedOut(let id): events.append("ackTimedOut(\(id))")
            case .oversizedPacketDropped(let type, let length): events.append("oversized(\(type),\(length))")
            case .connectionLost(let error): events.append("lost(\(error))")
            case .reconnectScheduled(let delay, let attempt): events.append("reconnect(\(delay),\(attempt))")
            }
        }
    }

    /// Publishes `payload` on topic "t" at QoS 1 and returns the packet id.
    @discardableResult
    func publish(_ payload: String, qos: MQTTQoS = .atLeastOnce) throws -> UInt16 {
        let topic = utf8("t"), body = utf8(payload)
        return try topic.withUnsafeBytes { t in
            try body.withUnsafeBytes { p in try session.publish(topic: t, payload: p, qos: qos) }
        }
    }
}
