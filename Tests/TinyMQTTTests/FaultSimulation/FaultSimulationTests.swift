import Foundation
import Testing
@testable import TinyMQTT
import TinyPlatform

/// The real `MQTTSession` over a simulated network and broker on a virtual clock, under
/// thousands of random fault schedules: dropped, partial, trickling and cut connections,
/// missing, late, duplicated and reordered acknowledgements, unanswered SUBSCRIBEs and
/// PINGs, every CONNACK code, garbage, and a clock stepped forward and back.
///
/// Invariants checked on every schedule:
/// - nothing traps (a trap would end the test process);
/// - every QoS 1 message is reported `.delivered` exactly once, for a message the broker
///   did receive; after a permanent refusal the undelivered ones are still queued
///   (`inflightCount`), none silently lost;
/// - every reconnect delay lies in [d/2, d] of the configured backoff, and no attempt
///   starts before its delay has passed.
///
/// Half of the schedules (odd seeds) batch their QoS 1 publishes (`batchesPublishes`).
///
/// `TINYHUB_SIM_SEED=n` replays schedule n alone; `TINYHUB_SIM_SCHEDULES=k` runs k of them.
@Suite struct FaultSimulationTests {
    static var schedules: [UInt64] { SimulationSchedules.make(label: "fault simulation", defaultCount: 10_000, share: 1, salt: 1_000_003) }

    @Test func sessionSurvivesRandomFaultSchedules() throws {
        var failures: [String] = []
        var totals = SimulationTotals()
        let schedules = Self.schedules
        for seed in schedules {
            let outcome = SessionSimulation(seed: seed).run()
            totals.add(outcome)
            if let failure = outcome.failure {
                failures.append("seed \(seed): \(failure) (replay: TINYHUB_SIM_SEED=\(seed) swift test --filter FaultSimulationTests)")
                if failures.count >= 5 { break }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        print("fault simulation: \(totals.summary)")
        // The schedules must really exercise the faults, or the invariants prove little.
        if schedules.count >= 1_000 {
            #expect(totals.reconnects > 1_000 && totals.refusals > 10 && totals.delivered > 10_000, "\(totals.summary)")
        }
    }
}

struct SimulationTotals {
    var schedules = 0, delivered = 0, reconnects = 0, refusals = 0, duplicatesOnWire = 0

    mutating func add(_ outcome: SessionSimulation.Outcome) {
        schedules += 1
        delivered += outcome.delivered
        reconnects += outcome.reconnects
        refusals += outcome.refused ? 1 : 0
        duplicatesOnWire += outcome.duplicatesOnWire
    }

    var summary: String {
        "\(schedules) schedules, \(delivered) messages delivered, \(reconnects) reconnects, \(refusals) permanent refusals, \(duplicatesOnWire) resent duplicates seen by the broker"
    }
}

/// One schedule: publish, subscribe and poll through a faulty phase, then a calm phase in
/// which every message must get through.
struct SessionSimulation {
    struct Outcome {
        var failure: String? = nil
        var delivered = 0
        var reconnects = 0
        var refused = false
        var duplicatesOnWire = 0
    }

    let seed: UInt64

    func run() -> Outcome {
        var plan = SeededRandom(seed: seed)
        let clock = SimulatedClock(seed: seed)
        let broker = SimulatedBroker(seed: seed, rates: FaultRates.random(&plan))
        let transport = SimulatedTransport(seed: seed, clock: clock, broker: broker)
        var configuration = MQTTSessionConfiguration()
        configuration.connectTimeoutMs = 4_000
        configuration.pingTimeoutMs = 2_000
        configuration.ackTimeoutMs = 3_000
        configuration.sendTimeoutMs = 2_000
        configuration.backoff = Backoff(baseMs: 200, capMs: 5_000)
        configuration.stableConnectionMs = 10_000
        // Odd schedules batch their QoS 1 publishes (MQTTSessionConfiguration.batchesPublishes).
        configuration.batchesPublishes = seed % 2 == 1
        let window = 1 + plan.below(6)
        let buffers = MQTTBuffers.allocate(transmit: 128, receive: 16 + plan.below(64), inflightBytes: 64 + plan.below(256),
                                           inflightWindow: window)!
        defer { buffers.deallocate() }
        let session = MQTTSession(transport: transport, platform: clock, buffers: buffers, configuration: configuration)

        var outcome = Outcome()
        var inflightByID: [UInt16: Int] = [:]   // packet id -> message sequence, as the session reported
        var deliveredSequences = Set<Int>()
        var published = 0
        var earliestNextOpen: UInt64 = 0
        var backoffCheckValid = true
        // The attempt count as the rule defines it: +1 per retry, back to 1 only after a
        // connection that stayed up for `stableConnectionMs`.
        var lastAttempt: UInt32 = 0
        var connectedAt: UInt64? = nil
        var jumpsAtSchedule = 0   // a stepped clock makes the uptime the session saw unknowable here
        var lastUptime: (ms: UInt64, certain: Bool)? = nil

        transport.mayDeliver = { frame in
            guard let sequence = frame.acknowledges else { return true }
            let id = UInt16(frame.bytes[2]) << 8 | UInt16(frame.bytes[3])
            // Never hand out an acknowledgement for an id now in flight for another message.
            if let current = inflightByID[id] { return current == sequence }
            return true
        }
        transport.onOpen = { now in
            if backoffCheckValid, now < earliestNextOpen, outcome.failure == nil, !clock.jumpedBack {
                outcome.failure = "reconnected at \(now), before the backoff allowed (\(earliestNextOpen))"
            }
        }

        let clientID: [UInt8] = Array("sim".utf8)
        let topic: [UInt8] = Array("t".utf8)
        let filter: [UInt8] = Array("c/#".utf8)
        return clientID.withUnsafeBytes { id in
            topic.withUnsafeBytes { topicBytes in
                filter.withUnsafeBytes { filterBytes in
                    let options = MQTTConnectOptions(clientID: id, cleanSession: false, keepAliveSeconds: UInt16(2 + plan.below(8)))
                    let trace = ProcessInfo.processInfo.environment["TINYHUB_SIM_TRACE"] != nil
                    let handler: (MQTTEvent) -> Void = { event in
                        if trace { print("t=\(clock.now) \(event)") }
                        switch event {
                        case .delivered(let packetID):
                            guard let sequence = inflightByID.removeValue(forKey: packetID) else {
                                if outcome.failure == nil { outcome.failure = "delivered(\(packetID)) for no message in flight" }
                                return
                            }
                            if !deliveredSequences.insert(sequence).inserted, outcome.failure == nil {
                                outcome.failure = "message \(sequence) reported delivered twice"
                            }
                            if !broker.received.contains(sequence), outcome.failure == nil {
                                outcome.failure = "message \(sequence) reported delivered but the broker never got it"
                            }
                            outcome.delivered += 1
                        case .connected:
                            connectedAt = clock.now
                        case .connectionLost:
                            if let start = connectedAt {
                                lastUptime = (clock.now > start ? clock.now - start : 0, jumpsAtSchedule == clock.jumps)
                            } else {
                                lastUptime = nil
                            }
                            connectedAt = nil
                        case .reconnectScheduled(let delay, let attempt):
                            outcome.reconnects += 1
                            let stable = lastUptime.map { $0.ms >= 10_000 }
                            let certain = lastUptime?.certain ?? true
                            if outcome.failure == nil {
                                if attempt == 1, lastAttempt > 0, stable != true, certain {
                                    outcome.failure = "attempt count reset after an unstable connection (uptime \(lastUptime?.ms ?? 0) ms)"
                                } else if attempt != 1, attempt != lastAttempt + 1 {
                                    outcome.failure = "attempt \(attempt) after attempt \(lastAttempt)"
                                } else if attempt != 1, stable == true, certain {
                                    outcome.failure = "attempt count kept growing after a connection stable for \(lastUptime!.ms) ms"
                                }
                            }
                            lastAttempt = attempt
                            lastUptime = nil
                            jumpsAtSchedule = clock.jumps
                            let ceiling = configuration.backoff.ceiling(attempt: attempt)
                            // [d/2, d] with d = min(5000, 200 x 2^(attempt-1)), written out independently.
                            let expected = UInt32(min(5_000, 200 * (1 << min(Int(attempt) - 1, 20))))
                            if ceiling != expected || delay < expected - expected / 2 || delay > expected, outcome.failure == nil {
                                outcome.failure = "reconnect delay \(delay) for attempt \(attempt) outside [\(expected / 2), \(expected)]"
                            }
                            earliestNextOpen = clock.now + UInt64(delay)
                            backoffCheckValid = true
                        default:
                            break
                        }
                    }
                    func publishOne() {
                        let payload = Array("m\(published)".utf8)
                        payload.withUnsafeBytes { body in
                            do throws(MQTTError) {
                                let packetID = try session.publish(topic: topicBytes, payload: body, qos: .atLeastOnce)
                                if let other = inflightByID[packetID], outcome.failure == nil {
                                    outcome.failure = "packet id \(packetID) reused while message \(other) is in flight"
                                }
                                inflightByID[packetID] = published
                                published += 1
                            } catch {
                                switch error {
                                case .inflightWindowFull, .notConnected: break
                                default: if outcome.failure == nil { outcome.failure = "publish threw \(error)" }
                                }
                            }
                        }
                    }
                    func subscribeOne() {
                        let subscription = [MQTTSubscription(filter: filterBytes, qos: .atLeastOnce)]
                        _ = subscription.withUnsafeBufferPointer { try? session.subscribe($0) }
                    }

                    session.start(options)
                    backoffCheckValid = false
                    // Faulty phase.
                    var stopped = false
                    for _ in 0..<(20 + plan.below(40)) {
                        if plan.chance(50) { for _ in 0..<(1 + plan.below(3)) { publishOne() } }
                        if plan.chance(10), session.isConnected { subscribeOne() }
                        do throws(MQTTError) {
                            try session.poll(timeoutMs: UInt32(plan.below(4_000)), handler)
                        } catch {
                            guard case .connectionRefused(let code) = error, broker.refusedWith == code.rawValue else {
                                if outcome.failure == nil { outcome.failure = "poll threw \(error) without a permanent refusal" }
                                return outcome
                            }
                            stopped = true
                            break
                        }
                        if outcome.failure != nil { return outcome }
                    }
                    outcome.duplicatesOnWire = broker.received.count - Set(broker.received).count
                    if stopped {
                        outcome.refused = true
                        // Nothing silently lost: what was not delivered is still queued.
                        if session.inflightCount != published - deliveredSequences.count {
                            outcome.failure = "after a refusal \(session.inflightCount) queued, but \(published - deliveredSequences.count) undelivered"
                        }
                        return outcome
                    }
                    // Calm phase: a perfect network; everything queued must be delivered.
                    broker.rates = .none
                    transport.random = SeededRandom(seed: seed ^ 0xCA1)
                    // A broker that swallowed a PUBACK gets the message again only on a new
                    // connection (MQTT 3.1.1 §4.4): cut once so every queued message is resent.
                    transport.close()
                    for _ in 0..<400 where outcome.failure == nil && deliveredSequences.count < published {
                        do {
                            try session.poll(timeoutMs: 1_000, handler)
                        } catch {
                            outcome.failure = "poll threw \(error) on a perfect network"
                        }
                    }
                    outcome.duplicatesOnWire = broker.received.count - Set(broker.received).count
                    if outcome.failure == nil, deliveredSequences.count != published {
                        outcome.failure = "\(published - deliveredSequences.count) of \(published) messages never delivered on a perfect network"
                    }
                    if outcome.failure == nil, session.inflightCount != 0 {
                        outcome.failure = "\(session.inflightCount) messages still in flight after all were delivered"
                    }
                    return outcome
                }
            }
        }
    }
}
