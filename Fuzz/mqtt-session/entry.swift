// libFuzzer entry for the MQTT session: the real `MQTTSession` fed a broker byte stream under a
// fake clock. Connect, subscribe, publish a few QoS 1 messages, poll a bounded number of times.
//
// Input layout:
//   byte 0      receive buffer size (16 + b % 240) and keep-alive (b >> 5: 0...7 s)
//   byte 1      QoS 1 messages to publish (b % 6), in-flight window (1 + (b >> 4) % 4),
//   byte 2      poll timeout (b * 40 ms) and polls (8 + b % 57)
//   bytes 3-4   length L (big-endian) of the broker script that follows
//   L bytes     broker script: one record per transport receive
//                 h < 0xF0: deliver the next h bytes (0: nothing, the wait passes: a timeout)
//                 0xF0 closed, 0xF1 timeout error, 0xF2 truncated, 0xF3 io error
//                 0xF4 x: the clock jumps x seconds forward, then nothing arrives
//               when it runs out, every receive waits out its timeout with nothing
//   rest        open/send script, one byte per call: 0xFx fails that call (closed,
//               refused, timeout...), anything else (or nothing left) succeeds
//
// Oracles: no trap, no hang (a budget of transport and clock calls), every QoS 1 message is
// reported delivered exactly once (an id the session returned, not yet delivered) or still
// counted in flight: published = delivered + inflightCount after every call; event views lie
// inside the session's receive buffer; reconnect delays stay within the backoff envelope.
@testable import TinyMQTT
import TinyPlatform

@inline(never)
func fuzzFail(_ message: String, line: UInt = #line) -> Never {
    fatalError("fuzz oracle: \(message)", line: line)
}

func check(_ condition: Bool, _ message: @autoclosure () -> String, line: UInt = #line) {
    if !condition { fuzzFail(message(), line: line) }
}

/// Counts calls into the fakes; a session that loops without end runs out of it.
var budget = 0
func spend() {
    budget -= 1
    if budget < 0 { fuzzFail("hang: the session kept calling the transport or the clock") }
}

final class FakePlatform: Platform {
    var nowMs: UInt64 = 1_000_000
    var seed: UInt32
    init(seed: UInt32) { self.seed = seed }
    func monotonicMs() -> UInt64 { spend(); return nowMs }
    func wallSeconds() -> Int64 { 1_700_000_000 + Int64(nowMs / 1000) }
    func random32() -> UInt32 {
        seed = seed &* 1_664_525 &+ 1_013_904_223
        return seed
    }
    func sleep(ms: UInt32) { spend(); nowMs += UInt64(max(ms, 1)) }
}

final class ScriptTransport: Transport {
    let broker: UnsafeRawBufferPointer
    let calls: UnsafeRawBufferPointer
    var brokerAt = 0
    var callAt = 0
    let platform: FakePlatform
    private(set) var isOpen = false

    init(broker: UnsafeRawBufferPointer, calls: UnsafeRawBufferPointer, platform: FakePlatform) {
        self.broker = broker
        self.calls = calls
        self.platform = platform
    }

    func nextCall() -> TransportError? {
        guard callAt < calls.count else { return nil }
        defer { callAt += 1 }
        switch calls[callAt] {
        case 0xF0: return .closed
        case 0xF1: return .connectionRefused
        case 0xF2: return .timeout
        case 0xF3: return .truncated
        case 0xF4: return .io(errno: 104)
        case 0xF5: return .dnsFailure(code: -3)
        case 0xF6...0xFF: return .notConnected
        default: return nil
        }
    }

    func open(timeoutMs: Int32) throws(TransportError) {
        spend()
        isOpen = false
        platform.nowMs += 1
        if let error = nextCall() { throw error }
        isOpen = true
    }

    func send(_ bytes: UnsafeRawBufferPointer, timeoutMs: Int32) throws(TransportError) {
        spend()
        guard isOpen else { throw .notConnected }
        check(bytes.count > 0, "empty send")
        var sum = 0
        for byte in bytes { sum &+= Int(byte) } // ASan: the whole packet is readable
        if sum == -1 { print(sum) }
        if let error = nextCall() { isOpen = false; throw error }
    }

    func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMs: Int32) throws(TransportError) -> Int {
        spend()
        guard isOpen else { throw .notConnected }
        check(timeoutMs >= 0, "negative receive timeout")
        guard brokerAt < broker.count else {
            platform.nowMs += UInt64(max(timeoutMs, 1))
            return 0
        }
        let header = broker[brokerAt]
        brokerAt += 1
        switch header {
        case 0xF0: isOpen = false; throw .closed
        case 0xF1: throw .timeout
        case 0xF2: isOpen = false; throw .truncated
        case 0xF3: isOpen = false; throw .io(errno: 104)
        case 0xF4...0xFF:
            let seconds = brokerAt < broker.count ? UInt64(broker[brokerAt]) : 1
            brokerAt += 1
            platform.nowMs += seconds * 1000
            return 0
        default:
            let n = min(Int(header), buffer.count, broker.count - brokerAt)
            if n == 0 {
                platform.nowMs += UInt64(max(timeoutMs, 1))
                return 0
            }
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: broker[brokerAt..<(brokerAt + n)]))
            brokerAt += n
            platform.nowMs += 1
            return n
        }
    }

    func close() { isOpen = false }
}

/// What the application saw, checked as it goes.
final class Ledger {
    var outstanding: [UInt16] = []   // ids returned by publish, not yet delivered
    var published = 0
    var delivered = 0
    let receive: UnsafeMutableRawBufferPointer
    let backoff: Backoff
    init(receive: UnsafeMutableRawBufferPointer, backoff: Backoff) {
        self.receive = receive
        self.backoff = backoff
    }

    func inside(_ view: UnsafeRawBufferPointer) -> Bool {
        guard view.count > 0, let base = view.baseAddress else { return true }
        let lower = UnsafeRawPointer(receive.baseAddress!)
        return base >= lower && base + view.count <= lower + receive.count
    }

    func handle(_ event: MQTTEvent) {
        switch event {
        case .delivered(let id):
            guard let index = outstanding.firstIndex(of: id) else { fuzzFail("delivered \(id): not in flight") }
            outstanding.remove(at: index)
            delivered += 1
        case .message(let message):
            check(inside(message.topic) && inside(message.payload), "message outside the receive buffer")
            var sum = 0
            for byte in message.topic { sum &+= Int(byte) }
            for byte in message.payload { sum &+= Int(byte) }
            if sum == -1 { print(sum) }
        case .subscribed(_, let codes):
            check(inside(codes), "SUBACK codes outside the receive buffer")
        case .reconnectScheduled(let delay, let attempt):
            check(attempt >= 1, "attempt 0")
            let top = backoff.ceiling(attempt: attempt)
            check(delay <= top && delay >= top - top / 2, "delay \(delay) outside [\(top - top / 2), \(top)]")
        case .oversizedPacketDropped(_, let length):
            check(length > receive.count, "dropped a packet that fits")
        case .connected, .unsubscribed, .ackTimedOut, .connectionLost:
            break
        }
    }

    func checkCounts(_ inflight: Int) {
        check(published == delivered + inflight, "published \(published) != delivered \(delivered) + in flight \(inflight)")
        check(outstanding.count == inflight, "outstanding \(outstanding.count) != in flight \(inflight)")
    }
}

let clientID = Array("fuzz-device".utf8)
let topic = Array("devices/fuzz/messages/events/".utf8)
let filter = Array("devices/fuzz/messages/devicebound/#".utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 5 else { return 0 }
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let receiveSize = 16 + Int(input[0]) % 240
    let keepAlive = UInt16(input[0] >> 5)
    let messages = Int(input[1]) % 6
    let window = 1 + Int(input[1] >> 4) % 4
    let pollTimeout = UInt32(input[2]) * 40
    let polls = 8 + Int(input[2]) % 57
    let scriptLength = min(Int(input[3]) << 8 | Int(input[4]), size - 5)
    let broker = UnsafeRawBufferPointer(rebasing: input[5..<(5 + scriptLength)])
    let calls = UnsafeRawBufferPointer(rebasing: input[(5 + scriptLength)...])

    budget = 200_000
    guard let buffers = MQTTBuffers.allocate(transmit: 256, receive: receiveSize, inflightBytes: 64 * window,
                                             inflightWindow: window) else { fuzzFail("allocation") }
    defer { buffers.deallocate() }
    let platform = FakePlatform(seed: UInt32(size))
    let transport = ScriptTransport(broker: broker, calls: calls, platform: platform)
    var configuration = MQTTSessionConfiguration()
    configuration.connectTimeoutMs = 5_000
    configuration.pingTimeoutMs = 5_000
    configuration.ackTimeoutMs = 10_000
    let session = MQTTSession(transport: transport, platform: platform, buffers: buffers, configuration: configuration)
    let ledger = Ledger(receive: buffers.receive, backoff: configuration.backoff)

    clientID.withUnsafeBytes { id in
        topic.withUnsafeBytes { topicBytes in
            filter.withUnsafeBytes { filterBytes in
                let options = MQTTConnectOptions(clientID: id, keepAliveSeconds: keepAlive)
                var published = 0
                func publishOne() {
                    let payload: [UInt8] = [UInt8(truncatingIfNeeded: published), 0x7B, 0x7D]
                    do throws(MQTTError) {
                        let p = UnsafeMutableRawBufferPointer.allocate(byteCount: payload.count, alignment: 1)
                        defer { p.deallocate() }
                        p.copyBytes(from: payload)
                        let id = try session.publish(topic: topicBytes, payload: UnsafeRawBufferPointer(p), qos: .atLeastOnce)
                        check(id != 0 && !ledger.outstanding.contains(id), "packet id \(id) reused while in flight")
                        ledger.outstanding.append(id)
                        ledger.published += 1
                    } catch {
                        switch error {
                        case .inflightWindowFull, .notConnected, .encoding: break
                        default: fuzzFail("publish: \(error)")
                        }
                    }
                    published += 1
                    ledger.checkCounts(session.inflightCount)
                }
                func subscribe() {
                    let subscription = [MQTTSubscription(filter: filterBytes, qos: .atLeastOnce)]
                    _ = subscription.withUnsafeBufferPointer { try? session.subscribe($0) }
                }

                do throws(MQTTError) {
                    try session.connect(options)
                    subscribe()
                } catch {
                    if case .connectionRefused(let code) = error, code.isPermanent { return }
                    session.start(options)
                }
                for _ in 0..<messages { publishOne() }
                for round in 0..<polls {
                    do throws(MQTTError) {
                        try session.poll(timeoutMs: pollTimeout) { event in
                            ledger.handle(event)
                            if case .connected = event { }
                        }
                    } catch {
                        switch error {
                        case .connectionRefused(let code): check(code.isPermanent, "transient refusal thrown")
                        case .notConnected: break
                        default: fuzzFail("poll threw \(error)")
                        }
                        ledger.checkCounts(session.inflightCount)
                        return
                    }
                    ledger.checkCounts(session.inflightCount)
                    if let since = session.failingSinceMs { check(since <= platform.nowMs, "failing since the future") }
                    if round == polls / 2 {
                        if session.isConnected { subscribe() }
                        publishOne()
                    }
                }
            }
        }
    }
    return 0
}
