import Foundation
import TinyMQTT
import TinyPlatform

/// A small, fast generator for reproducible fault schedules (SplitMix64).
struct SeededRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in 0..<bound (bound > 0).
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// True with probability `percent` / 100.
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

/// The virtual clock of one schedule. It moves only when the session sleeps or waits for
/// input, or when the network jumps it (forward by minutes, back by seconds: a stepped
/// clock must never make the session trap).
final class SimulatedClock: Platform {
    var now: UInt64 = 5_000_000
    var random: SeededRandom
    private(set) var jumpedBack = false
    /// How many times the clock was stepped.
    private(set) var jumps = 0

    init(seed: UInt64) { random = SeededRandom(seed: seed ^ 0xC10C) }

    func monotonicMs() -> UInt64 { now }
    func wallSeconds() -> Int64 { 1_750_000_000 + Int64(now / 1_000) }
    func random32() -> UInt32 { UInt32(truncatingIfNeeded: random.next()) }
    func sleep(ms: UInt32) { now += UInt64(ms) }

    /// Moves the clock as a stepped wall clock would.
    func jump(forward: Bool, ms: UInt64) {
        jumps += 1
        if forward {
            now += ms
        } else {
            now = now > ms ? now - ms : 0
            jumpedBack = true
        }
    }
}

/// How hostile the network and the broker are in one schedule (percentages per event).
struct FaultRates {
    var openFails = 0
    var connackUnavailable = 0
    var connackPermanent = 0
    var connackMissing = 0
    var cutWhileSending = 0
    var cutWhileReceiving = 0
    var ackDropped = 0
    var ackDelayed = 0
    var ackDuplicated = 0
    var subackMissing = 0
    var pingrespMissing = 0
    var garbage = 0
    var trickle = 0
    var clockJump = 0

    static let none = FaultRates()

    /// Random rates: each schedule stresses a different mix.
    static func random(_ r: inout SeededRandom) -> FaultRates {
        var rates = FaultRates()
        rates.openFails = r.below(30)
        rates.connackUnavailable = r.below(20)
        rates.connackPermanent = r.chance(10) ? 5 + r.below(20) : 0
        rates.connackMissing = r.below(8)
        rates.cutWhileSending = r.below(8)
        rates.cutWhileReceiving = r.below(8)
        rates.ackDropped = r.below(15)
        rates.ackDelayed = r.below(40)
        rates.ackDuplicated = r.below(20)
        rates.subackMissing = r.below(30)
        rates.pingrespMissing = r.below(20)
        rates.garbage = r.below(3)
        rates.trickle = r.below(20)
        rates.clockJump = r.below(3)
        return rates
    }
}

/// One packet the broker will send, with what it acknowledges (for the no-forgery rule).
struct OutboundFrame {
    var bytes: [UInt8]
    /// For a PUBACK: the message it acknowledges (payload sequence number).
    var acknowledges: Int? = nil
}

/// The broker side of one schedule: parses what the client sends (its own parser, not
/// the SDK's) and answers per the fault rates. It acknowledges only messages it received
/// on the current connection, by the packet id they came with.
final class SimulatedBroker {
    var rates: FaultRates
    var random: SeededRandom
    /// Sequence numbers of every QoS 1 message received, with repeats.
    private(set) var received: [Int] = []
    /// The topic each of `received` came with.
    private(set) var receivedTopics: [String] = []
    /// Called with the sequence number of each QoS 1 message as it arrives.
    var onReceive: (Int) -> Void = { _ in }
    /// Connections opened / CONNECT packets seen.
    private(set) var connects = 0
    /// The permanent CONNACK code sent, if any.
    private(set) var refusedWith: UInt8? = nil
    private var input: [UInt8] = []
    var outbound: [OutboundFrame] = []
    private var held: [OutboundFrame] = []

    init(seed: UInt64, rates: FaultRates) {
        random = SeededRandom(seed: seed ^ 0xB40CE5)
        self.rates = rates
    }

    /// A new TCP connection: forget partial input and held answers of the old one.
    func connectionOpened() {
        input.removeAll()
        outbound.removeAll()
        held.removeAll()
    }

    /// Releases acknowledgements held back (in a shuffled order).
    func releaseHeld() {
        guard !held.isEmpty else { return }
        var frames = held
        held.removeAll()
        while !frames.isEmpty { outbound.append(frames.remove(at: random.below(frames.count))) }
    }

    /// Bytes from the client. Returns false when the broker closes the connection.
    func accept(_ bytes: [UInt8]) -> Bool {
        input += bytes
        while let (type, flags, body, length) = nextPacket() {
            input.removeFirst(length)
            if !handle(type: type, flags: flags, body: body) { return false }
        }
        return true
    }

    private func nextPacket() -> (UInt8, UInt8, [UInt8], Int)? {
        guard input.count >= 2 else { return nil }
        var remaining = 0, multiplier = 1, index = 1
        while true {
            guard index < input.count, index <= 4 else { return nil }
            let byte = Int(input[index])
            remaining += (byte & 0x7F) * multiplier
            multiplier *= 128
            index += 1
            if byte & 0x80 == 0 { break }
        }
        guard input.count >= index + remaining else { return nil }
        return (input[0] >> 4, input[0] & 0x0F, Array(input[index..<index + remaining]), index + remaining)
    }

    private func handle(type: UInt8, flags: UInt8, body: [UInt8]) -> Bool {
        switch type {
        case 1: // CONNECT
            connects += 1
            if random.chance(rates.connackMissing) { return true }
            var code: UInt8 = 0
            if random.chance(rates.connackPermanent) {
                code = [1, 2, 4, 5][random.below(4)]
                refusedWith = code
            } else if random.chance(rates.connackUnavailable) {
                code = 3
            }
            outbound.append(OutboundFrame(bytes: [0x20, 2, code == 0 ? 1 : 0, code])) // session present only when accepted (§3.2.2.2)
            return code == 0
        case 3: // PUBLISH
            let qos = (flags >> 1) & 3
            let topicLength = Int(body[0]) << 8 | Int(body[1])
            var at = 2 + topicLength
            var id: [UInt8] = []
            if qos > 0 { id = [body[at], body[at + 1]]; at += 2 }
            let payload = String(decoding: body[at...], as: UTF8.self)
            let topic = String(decoding: body[2..<(2 + topicLength)], as: UTF8.self)
            if qos == 0, topic.hasPrefix("$iothub/twin/GET/?$rid=") {
                // IoT Hub answers a twin GET on the response topic with the same request id.
                if random.chance(rates.subackMissing) { return true }
                let answer = Array("$iothub/twin/res/200/?$rid=\(topic.dropFirst("$iothub/twin/GET/?$rid=".count))".utf8)
                let document = Array("{\"desired\":{\"$version\":1},\"reported\":{\"$version\":1}}".utf8)
                let length = 2 + answer.count + document.count
                outbound.append(OutboundFrame(bytes: [0x30, UInt8(length), 0, UInt8(answer.count)] + answer + document))
                return true
            }
            guard qos == 1, payload.hasPrefix("m"), let sequence = Int(payload.dropFirst()) else { return true }
            received.append(sequence)
            receivedTopics.append(topic)
            onReceive(sequence)
            if random.chance(rates.ackDropped) { return true }
            let ack = OutboundFrame(bytes: [0x40, 2] + id, acknowledges: sequence)
            if random.chance(rates.ackDelayed) {
                held.append(ack)
            } else {
                outbound.append(ack)
                if random.chance(rates.ackDuplicated) { outbound.append(ack) }
            }
            if random.chance(30) { releaseHeld() }
            return true
        case 8: // SUBSCRIBE: one return code per filter
            if random.chance(rates.subackMissing) { return true }
            var codes: [UInt8] = []
            var at = 2
            while at + 2 < body.count {
                let length = Int(body[at]) << 8 | Int(body[at + 1])
                at += 2 + length
                codes.append(body[at])
                at += 1
            }
            outbound.append(OutboundFrame(bytes: [0x90, UInt8(2 + codes.count), body[0], body[1]] + codes))
            return true
        case 12: // PINGREQ
            if !random.chance(rates.pingrespMissing) { outbound.append(OutboundFrame(bytes: [0xD0, 0])) }
            releaseHeld()
            return true
        case 4: // PUBACK from the client for a message we sent
            return true
        case 14: // DISCONNECT
            return false
        default:
            return false
        }
    }

    /// Occasionally something unprompted: a message for the client, or garbage.
    func maybeSpeak() {
        if random.chance(rates.garbage) {
            outbound.append(OutboundFrame(bytes: [0x60, 0x00])) // a PUBREL: never valid towards a QoS 1 client
        } else if random.chance(5) {
            outbound.append(OutboundFrame(bytes: [0x32, 6, 0, 1, 0x63, 0x7F, 0x01, 0x78])) // QoS 1 "c" "x", id 0x7F01
        }
    }
}

/// The transport of one schedule: opens fail, writes stop part-way, reads arrive in
/// random pieces, trickle, or are cut; the clock advances by what a wait would take.
final class SimulatedTransport: Transport {
    let clock: SimulatedClock
    let broker: SimulatedBroker
    var random: SeededRandom
    /// Whether acknowledgement `acknowledges` may be handed to the client now (the harness
    /// says no for an id now in flight for another message: the model never forges).
    var mayDeliver: (OutboundFrame) -> Bool = { _ in true }
    /// Called on every open with the clock value (for the backoff envelope check).
    var onOpen: (UInt64) -> Void = { _ in }
    private(set) var isOpen = false
    /// The broker ended the connection: what it queued is still delivered, then `.closed`.
    private var peerClosed = false
    private var current: [UInt8] = []   // the frame being delivered
    private var currentOffset = 0

    init(seed: UInt64, clock: SimulatedClock, broker: SimulatedBroker) {
        random = SeededRandom(seed: seed ^ 0x7A45)
        self.clock = clock
        self.broker = broker
    }

    private var rates: FaultRates { broker.rates }

    private func maybeJumpClock() {
        guard random.chance(rates.clockJump) else { return }
        if random.chance(70) {
            clock.jump(forward: true, ms: UInt64(random.below(600_000)))
        } else {
            clock.jump(forward: false, ms: UInt64(random.below(5_000)))
        }
    }

    func open(timeoutMs: Int32) throws(TransportError) {
        onOpen(clock.now)
        close()
        if random.chance(rates.openFails) {
            if random.chance(50) {
                clock.now += UInt64(max(0, timeoutMs))
                throw .timeout
            }
            throw .connectionRefused
        }
        isOpen = true
        peerClosed = false
        broker.connectionOpened()
        current = []
        currentOffset = 0
    }

    func send(_ bytes: UnsafeRawBufferPointer, timeoutMs: Int32) throws(TransportError) {
        guard isOpen else { throw .notConnected }
        maybeJumpClock()
        if peerClosed { throw .closed }
        if random.chance(rates.cutWhileSending) {
            let part = random.below(bytes.count + 1)
            _ = broker.accept(Array(bytes[0..<part]))
            close()
            throw .closed
        }
        if !broker.accept(Array(bytes)) { peerClosed = true }
    }

    func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMs: Int32) throws(TransportError) -> Int {
        guard isOpen else { throw .notConnected }
        maybeJumpClock()
        broker.maybeSpeak()
        if random.chance(rates.cutWhileReceiving) {
            close()
            throw .closed
        }
        // Next frame, skipping acknowledgements the no-forgery rule holds back.
        while currentOffset >= current.count {
            guard !broker.outbound.isEmpty else {
                if peerClosed {
                    close()
                    throw .closed
                }
                if random.chance(40) { broker.releaseHeld() }
                clock.now += UInt64(max(0, timeoutMs))
                return 0
            }
            let frame = broker.outbound.removeFirst()
            guard mayDeliver(frame) else { continue }
            current = frame.bytes
            currentOffset = 0
        }
        var count = min(buffer.count, current.count - currentOffset)
        if random.chance(rates.trickle) {
            count = min(count, 1)
            clock.now += UInt64(random.below(max(1, Int(timeoutMs))))
        } else if count > 1, random.chance(30) {
            count = 1 + random.below(count)
        }
        for i in 0..<count { buffer[i] = current[currentOffset + i] }
        currentOffset += count
        return count
    }

    func close() {
        isOpen = false
        current = []
        currentOffset = 0
    }
}

/// The seeds of one simulation run, from the environment: `TINYHUB_SIM_SEED=n` replays one
/// schedule, `TINYHUB_SIM_SCHEDULES=k` sets the count (each suite runs `k / share`), and
/// `TINYHUB_SIM_BASE=b` replays a whole run from its base, which is printed first (a trap
/// ends the process before any failure message could name a seed).
enum SimulationSchedules {
    static func make(label: String, defaultCount: UInt64, share: UInt64, salt: UInt64) -> [UInt64] {
        let environment = ProcessInfo.processInfo.environment
        if let text = environment["TINYHUB_SIM_SEED"], let seed = UInt64(text) { return [seed] }
        let count = environment["TINYHUB_SIM_SCHEDULES"].flatMap { UInt64($0) }.map { max(1, $0 / share) } ?? defaultCount
        let base = environment["TINYHUB_SIM_BASE"].flatMap { UInt64($0) }
            ?? UInt64(truncatingIfNeeded: Int(Date().timeIntervalSince1970)) &* salt
        print("\(label): \(count) schedules from TINYHUB_SIM_BASE=\(base)")
        return (0..<count).map { base &+ $0 }
    }
}
