import Foundation
import Testing
import TinyHub
@testable import TinyMQTT
import TinyPlatform
import TinyTLS

/// The real `HubClient` (over the real `MQTTSession`) on the same simulated network, broker
/// and clock as `FaultSimulationTests`, with C2D, twin and methods subscribed and a twin GET
/// after every connect. On top of the session's invariants:
/// - `poll` throws only after a permanent refusal (a failed re-SUBSCRIBE, an unanswered
///   SUBSCRIBE or twin GET, a lost connection: all end in a reconnect, never in an error);
/// - every telemetry message is acknowledged exactly once;
/// - once the network is calm, the client ends up subscribed and holding the twin: never
///   silently deaf.
@Suite struct HubFaultSimulationTests {
    static var schedules: [UInt64] { SimulationSchedules.make(label: "hub fault simulation", defaultCount: 2_000, share: 5, salt: 7_919) }

    @Test func hubClientSurvivesRandomFaultSchedules() {
        var failures: [String] = []
        var acknowledged = 0, resubscribed = 0, refused = 0
        let schedules = Self.schedules
        for seed in schedules {
            let outcome = HubSimulation(seed: seed).run()
            acknowledged += outcome.acknowledged
            resubscribed += outcome.subscriptions
            refused += outcome.refused ? 1 : 0
            if let failure = outcome.failure {
                failures.append("seed \(seed): \(failure) (replay: TINYHUB_SIM_SEED=\(seed) swift test --filter HubFaultSimulationTests)")
                if failures.count >= 5 { break }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        print("hub fault simulation: \(schedules.count) schedules, \(acknowledged) telemetry acknowledged, \(resubscribed) subscriptions made, \(refused) permanent refusals")
        if schedules.count >= 1_000 {
            #expect(acknowledged > 5_000 && resubscribed > 2_000 && refused > 5)
        }
    }
}

struct HubSimulation {
    struct Outcome {
        var failure: String? = nil
        var acknowledged = 0
        var subscriptions = 0
        var refused = false
    }

    let seed: UInt64

    func run() -> Outcome {
        var plan = SeededRandom(seed: seed)
        let clock = SimulatedClock(seed: seed)
        let broker = SimulatedBroker(seed: seed, rates: FaultRates.random(&plan))
        let transport = SimulatedTransport(seed: seed, clock: clock, broker: broker)
        guard let buffers = HubBuffers.allocate(maxMessage: 64, receive: 256, window: 1 + plan.below(4)) else {
            return Outcome(failure: "out of memory")
        }
        defer { buffers.deallocate() }
        var options = HubOptions()
        options.twinRequestTimeoutMs = 3_000
        options.keepAliveSeconds = UInt16(2 + plan.below(8))
        let text = Array("HostName=sim.azure-devices.net;DeviceId=sim;SharedAccessKey=c2ltdWxhdGVkIGtleQ==".utf8)
        let client: HubClient<MQTTFace<SimulatedTransport, SimulatedClock>>
        do {
            client = try text.withUnsafeBytes {
                try HubClient(configuration: HubConfiguration(connectionString: $0, storage: buffers.identity),
                              transport: transport, platform: clock, crypto: MbedTLSCrypto(), buffers: buffers, options: options)
            }
        } catch {
            return Outcome(failure: "init: \(error)")
        }
        client.session.configuration.connectTimeoutMs = 4_000
        client.session.configuration.pingTimeoutMs = 2_000
        client.session.configuration.ackTimeoutMs = 3_000
        client.session.configuration.backoff = Backoff(baseMs: 200, capMs: 5_000)
        client.session.configuration.stableConnectionMs = 10_000

        var outcome = Outcome()
        var inflight: [UInt16: Int] = [:]
        var acknowledged = Set<Int>()
        var published = 0
        var subscribedSinceConnect = false
        var twinSinceSubscribe = false
        transport.mayDeliver = { frame in
            guard let sequence = frame.acknowledges else { return true }
            let id = UInt16(frame.bytes[2]) << 8 | UInt16(frame.bytes[3])
            if let current = inflight[id] { return current == sequence }
            return true
        }
        let handler: (HubEvent) -> Void = { event in
            switch event {
            case .connected:
                subscribedSinceConnect = false
                twinSinceSubscribe = false
            case .subscribed:
                subscribedSinceConnect = true
                twinSinceSubscribe = false
                outcome.subscriptions += 1
            case .twin:
                twinSinceSubscribe = true
            case .telemetryAcknowledged(let id):
                guard let sequence = inflight.removeValue(forKey: id) else {
                    if outcome.failure == nil { outcome.failure = "acknowledged(\(id)) for no message in flight" }
                    return
                }
                if !acknowledged.insert(sequence).inserted, outcome.failure == nil {
                    outcome.failure = "message \(sequence) acknowledged twice"
                }
                outcome.acknowledged += 1
            default:
                break
            }
        }
        func send() {
            let payload = Array("m\(published)".utf8)
            payload.withUnsafeBytes { body in
                do throws(HubError) {
                    let id = try client.sendTelemetry(body)
                    inflight[id] = published
                    published += 1
                } catch {
                    switch error {
                    case .inflightWindowFull, .notConnected: break
                    default: if outcome.failure == nil { outcome.failure = "sendTelemetry threw \(error)" }
                    }
                }
            }
        }
        func poll(_ timeoutMs: UInt32) -> Bool {
            do throws(HubError) {
                try client.poll(timeoutMs: timeoutMs, handler)
                return true
            } catch {
                guard case .connectionRefused(let code) = error, broker.refusedWith == code.rawValue else {
                    if outcome.failure == nil { outcome.failure = "poll threw \(error) without a permanent refusal" }
                    return false
                }
                outcome.refused = true
                return false
            }
        }

        client.start()
        for _ in 0..<(20 + plan.below(40)) {
            if plan.chance(50) { for _ in 0..<(1 + plan.below(3)) { send() } }
            guard poll(UInt32(plan.below(4_000))), outcome.failure == nil else { return outcome }
        }
        // Calm: every message gets through, the client is subscribed and has the twin.
        broker.rates = .none
        transport.random = SeededRandom(seed: seed ^ 0xCA1)
        transport.close()
        for _ in 0..<400 where outcome.failure == nil
            && (acknowledged.count < published || !subscribedSinceConnect || !twinSinceSubscribe || !client.isConnected) {
            guard poll(1_000) else { return outcome }
        }
        if outcome.failure == nil, acknowledged.count != published {
            outcome.failure = "\(published - acknowledged.count) of \(published) messages never acknowledged on a calm network"
        }
        if outcome.failure == nil, !(subscribedSinceConnect && twinSinceSubscribe && client.isConnected) {
            outcome.failure = "deaf on a calm network: connected \(client.isConnected), subscribed \(subscribedSinceConnect), twin \(twinSinceSubscribe)"
        }
        return outcome
    }
}
