import Foundation
import Testing
import TinyHub
@testable import TinyMQTT
import TinyPlatform
import TinyTLS

/// `TelemetryOutbox` driving the real `HubClient` on the simulated network, broker and clock of
/// `FaultSimulationTests` (cut connections, dropped, delayed, duplicated and reordered PUBACKs,
/// refusals, clock jumps), over a small store (256-1,279 bytes: back-pressure is frequent), with
/// restarts at random moments: the client and the outbox are dropped without another call and
/// new ones made over the same store, as after a crash. Invariants:
/// - no message reaches the broker before its record was written and synced;
/// - a restart recovers at least every message that was still unacknowledged;
/// - `send` fails only with `full`, `poll` only after a permanent refusal (then: a restart);
/// - on a calm network everything stored is acknowledged and the store ends empty;
/// - every message whose `send` returned reaches the broker, first arrivals in send order, and
///   every arrival of a message carries the same topic (the same generated `$.mid`), no two
///   messages the same one.
@Suite struct OutboxFaultSimulationTests {
    static var schedules: [UInt64] { SimulationSchedules.make(label: "outbox fault simulation", defaultCount: 1_000, share: 10, salt: 104_729) }

    @Test func storedTelemetrySurvivesFaultsAndRestarts() {
        var failures: [String] = []
        var total = OutboxSimulation.Outcome()
        let schedules = Self.schedules
        for seed in schedules {
            let outcome = OutboxSimulation(seed: seed).run()
            total.sent += outcome.sent
            total.restarts += outcome.restarts
            total.recovered += outcome.recovered
            total.fulls += outcome.fulls
            total.repeats += outcome.repeats
            if let failure = outcome.failure {
                failures.append("seed \(seed): \(failure) (replay: TINYHUB_SIM_SEED=\(seed) swift test --filter OutboxFaultSimulationTests)")
                if failures.count >= 5 { break }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        print("outbox fault simulation: \(schedules.count) schedules, \(total.sent) messages stored, \(total.restarts) restarts, "
              + "\(total.recovered) recovered, \(total.fulls) refused as full, \(total.repeats) repeats seen by the broker")
        if schedules.count >= 500 {
            #expect(total.sent > 5_000 && total.restarts > 1_000 && total.recovered > 1_000 && total.fulls > 1_000 && total.repeats > 1_000)
        }
    }
}

/// Storage in a region that notes which messages (`m<sequence>` payloads) a `sync` made durable.
final class SyncTrackingStorage: OutboxStorage {
    let region: UnsafeMutableRawBufferPointer
    private var written: [Int] = []
    private(set) var durable = Set<Int>()

    init(region: UnsafeMutableRawBufferPointer) { self.region = region }

    var capacity: Int { region.count }

    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(StorageError) {
        guard offset >= 0, buffer.count <= region.count - offset else { throw .outOfRange }
        buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: region[offset..<(offset + buffer.count)]))
    }

    func write(at offset: Int, _ bytes: UnsafeRawBufferPointer) throws(StorageError) {
        guard offset >= 0, bytes.count <= region.count - offset else { throw .outOfRange }
        UnsafeMutableRawBufferPointer(rebasing: region[offset..<(offset + bytes.count)]).copyMemory(from: bytes)
        // A message record (documented format): kind M, bag length u16 at 2, payload length u32 at 4.
        guard bytes.count >= 20, bytes[0] == 0x4D else { return }
        let bag = Int(bytes[2]) | Int(bytes[3]) << 8
        let payload = Int(bytes[4]) | Int(bytes[5]) << 8
        guard 16 + bag + payload + 4 == bytes.count, payload > 1, bytes[16 + bag] == UInt8(ascii: "m"),
              let sequence = Int(String(decoding: bytes[(17 + bag)..<(16 + bag + payload)], as: UTF8.self)) else { return }
        written.append(sequence)
    }

    func sync() throws(StorageError) {
        durable.formUnion(written)
        written.removeAll()
    }
}

struct OutboxSimulation {
    struct Outcome {
        var failure: String? = nil
        var sent = 0
        var restarts = 0
        var recovered = 0
        var fulls = 0
        var repeats = 0
    }

    let seed: UInt64

    func run() -> Outcome {
        var plan = SeededRandom(seed: seed)
        let clock = SimulatedClock(seed: seed)
        let broker = SimulatedBroker(seed: seed, rates: FaultRates.random(&plan))
        let transport = SimulatedTransport(seed: seed, clock: clock, broker: broker)
        let capacity = 256 + plan.below(1_024)
        let window = 1 + plan.below(4)
        let region = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 8)
        region.initializeMemory(as: UInt8.self, repeating: 0)
        let storage = SyncTrackingStorage(region: region)
        guard let outboxBuffers = OutboxBuffers.allocate(maxMessage: 64, window: window) else { return Outcome(failure: "out of memory") }
        var hubBuffers: [HubBuffers] = []
        defer {
            region.deallocate()
            outboxBuffers.deallocate()
            for buffers in hubBuffers { buffers.deallocate() }
        }
        let text = Array("HostName=sim.azure-devices.net;DeviceId=sim;SharedAccessKey=c2ltdWxhdGVkIGtleQ==".utf8)
        var outcome = Outcome()
        var client: HubClient<MQTTFace<SimulatedTransport, SimulatedClock>>? = nil
        var outbox: TelemetryOutbox<SyncTrackingStorage>? = nil

        /// A new client and outbox over the store (the first start, or a restart after a crash).
        func boot() -> Bool {
            let pending = outbox?.pendingCount ?? 0
            // The old ones go away without another call, as in a crash (their buffers stay
            // allocated until the end: the dropped client's session may still point at them).
            outbox = nil
            client = nil
            var options = HubOptions()
            options.features = []
            options.keepAliveSeconds = UInt16(2 + plan.below(8))
            guard let buffers = HubBuffers.allocate(maxMessage: 64, receive: 256, window: window) else {
                outcome.failure = "out of memory"
                return false
            }
            hubBuffers.append(buffers)
            do {
                let made = try text.withUnsafeBytes {
                    try HubClient(configuration: HubConfiguration(connectionString: $0, storage: buffers.identity),
                                  transport: transport, platform: clock, crypto: MbedTLSCrypto(), buffers: buffers, options: options)
                }
                made.session.configuration.connectTimeoutMs = 4_000
                made.session.configuration.pingTimeoutMs = 2_000
                made.session.configuration.ackTimeoutMs = 3_000
                made.session.configuration.backoff = Backoff(baseMs: 200, capMs: 5_000)
                made.session.configuration.stableConnectionMs = 10_000
                let opened = try TelemetryOutbox(storage: storage, buffers: outboxBuffers)
                if opened.recoveredCount < pending {
                    outcome.failure = "restart recovered \(opened.recoveredCount) of \(pending) unacknowledged messages"
                    return false
                }
                outcome.recovered += opened.recoveredCount
                made.start()
                client = made
                outbox = opened
            } catch {
                outcome.failure = "boot: \(error)"
                return false
            }
            return true
        }

        func send() {
            guard let client, let outbox else { return }
            let payload = Array("m\(outcome.sent)".utf8)
            payload.withUnsafeBytes { body in
                do throws(OutboxError) {
                    try outbox.send(body, through: client)
                    outcome.sent += 1
                } catch {
                    if case .full = error {
                        outcome.fulls += 1
                    } else if outcome.failure == nil {
                        outcome.failure = "send threw \(error)"
                    }
                }
            }
        }

        /// Polls; after a permanent refusal the device restarts. False when the run must end.
        func poll(_ timeoutMs: UInt32) -> Bool {
            guard let client, let outbox else { return false }
            do throws(OutboxError) {
                try outbox.poll(client, timeoutMs: timeoutMs) { _ in }
                return true
            } catch {
                guard case .hub(.connectionRefused(let code)) = error, broker.refusedWith == code.rawValue else {
                    if outcome.failure == nil { outcome.failure = "poll threw \(error) without a permanent refusal" }
                    return false
                }
                outcome.restarts += 1
                return boot()
            }
        }

        broker.onReceive = { sequence in
            if !storage.durable.contains(sequence), outcome.failure == nil {
                outcome.failure = "message \(sequence) reached the broker before its record was synced"
            }
        }
        guard boot() else { return outcome }
        for _ in 0..<(20 + plan.below(40)) {
            if plan.chance(50) { for _ in 0..<(1 + plan.below(4)) { send() } }
            if plan.chance(10) {
                outcome.restarts += 1
                guard boot() else { return outcome }
            }
            guard poll(UInt32(plan.below(4_000))), outcome.failure == nil else { return outcome }
        }
        // Calm: everything stored gets through and the store ends empty.
        broker.rates = .none
        transport.random = SeededRandom(seed: seed ^ 0xCA1)
        transport.close()
        for _ in 0..<400 where outcome.failure == nil && (outbox?.pendingCount ?? 0) > 0 {
            guard poll(1_000) else { return outcome }
        }
        guard outcome.failure == nil else { return outcome }
        if let pending = outbox?.pendingCount, pending > 0 {
            outcome.failure = "\(pending) messages never acknowledged on a calm network"
            return outcome
        }
        if let reopened = try? TelemetryOutbox(storage: storage, buffers: outboxBuffers),
           reopened.recoveredCount != 0 {
            outcome.failure = "\(reopened.recoveredCount) messages still in the store after all were acknowledged"
            return outcome
        }
        // What the broker saw.
        var topics: [Int: String] = [:]
        var firsts: [Int] = []
        for (sequence, topic) in zip(broker.received, broker.receivedTopics) {
            guard sequence < outcome.sent else {
                outcome.failure = "the broker got message \(sequence), never stored"
                return outcome
            }
            if let known = topics[sequence] {
                outcome.repeats += 1
                if known != topic {
                    outcome.failure = "message \(sequence) came again as \(topic), first as \(known)"
                    return outcome
                }
            } else {
                topics[sequence] = topic
                firsts.append(sequence)
            }
        }
        if firsts != Array(0..<outcome.sent) {
            outcome.failure = "first arrivals \(firsts.prefix(40)) are not every stored message in order (\(outcome.sent))"
        } else if Set(topics.values).count != topics.count {
            outcome.failure = "two messages carried the same topic (message id)"
        }
        return outcome
    }
}
