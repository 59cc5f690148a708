import Foundation
import Testing
@testable import TinyHub
import TinyPlatform

/// A seeded random model check of the outbox's log against a list of what was stored and
/// acknowledged: random message sizes, appends, in-order acknowledgements, checkpoints, power
/// cuts at any byte of any write (a torn record, a torn checkpoint), reopens. After every
/// reopen the recovered messages must be exactly the messages stored since some point between
/// the newest checkpoint the model knows of and the oldest unacknowledged message: nothing
/// unacknowledged lost, nothing invented or altered, nothing torn. `full` only ever with
/// messages still unacknowledged. Replay: `TINYHUB_TEST_SEED=<seed> swift test --filter OutboxModelTests`.
@Suite struct OutboxModelTests {
    @Test func randomRunsWithPowerCutsNeverLoseOrInventAMessage() throws {
        var random = SeededRandom()
        var reopens = 0, cuts = 0, fulls = 0, appended = 0
        for run in 0..<150 {
            let capacity = Int.random(in: 256...3_000, using: &random)
            let storage = TestStorage(capacity: capacity, fill: UInt8.random(in: 0...255, using: &random))
            let staging = Staging()
            var log = try openLog(storage, staging)
            // The messages in the log, oldest first, as the model sees them: `history[acknowledged...]`
            // are unacknowledged; `history[floor...]` at least are on storage as far as checkpoints go.
            var history: [(message: StoredMessage, end: Int)] = []
            var acknowledged = 0
            var floor = 0
            var serial = 0
            for step in 0..<200 {
                let context = random.comment("run \(run) step \(step) capacity \(capacity)")
                switch Int.random(in: 0..<20, using: &random) {
                case 0..<10:
                    serial += 1
                    let message = StoredMessage(bag: Array("%24.mid=r\(run)-\(serial)".utf8),
                                                payload: (0..<Int.random(in: 0...(capacity / 4), using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
                    do {
                        let record = try log.append(message, staging: staging)
                        history.append((message, record.end))
                        appended += 1
                    } catch {
                        guard case .full = error else { throw OutboxTestFailure("append threw \(error); \(context)") }
                        fulls += 1
                        #expect(acknowledged < history.count, "full with nothing unacknowledged; \(context)")
                    }
                case 10..<15:
                    let count = Int.random(in: 0...(history.count - acknowledged), using: &random)
                    for _ in 0..<count {
                        log.releaseOldest(end: history[acknowledged].end)
                        acknowledged += 1
                    }
                case 15..<17:
                    try log.writeCheckpoint()
                    floor = acknowledged
                default:
                    // A power cut somewhere in the next append or checkpoint, then a reopen.
                    storage.budget = Int.random(in: 0...(capacity / 3), using: &random)
                    // A record written whole whose sync was cut may be found: the caller saw an
                    // error, the record is intact (storage cannot tell); nothing else may be.
                    var unsure: StoredMessage? = nil
                    if Bool.random(using: &random) {
                        serial += 1
                        let message = StoredMessage(bag: Array("%24.mid=cut-\(serial)".utf8),
                                                    payload: (0..<Int.random(in: 0...(capacity / 4), using: &random)).map { _ in 0xC7 })
                        if let record = try? log.append(message, staging: staging) {
                            history.append((message, record.end))
                        } else {
                            unsure = message
                        }
                    } else if (try? log.writeCheckpoint()) != nil {
                        floor = acknowledged
                    }
                    if storage.budget == 0 { cuts += 1 }
                    storage.budget = nil
                    reopens += 1
                    log = try openLog(storage, staging)
                    let found = try log.contents(staging: staging)
                    var expectedEnd = history.map(\.message)
                    if let unsure, found.last?.message == unsure { expectedEnd.append(unsure) }
                    let first = expectedEnd.count - found.count
                    #expect(first >= floor && first <= acknowledged, "recovered \(found.count) of \(history.count), floor \(floor), acknowledged \(acknowledged); \(context)")
                    #expect(first >= 0 && Array(expectedEnd[max(0, first)...]) == found.map(\.message), "recovered messages differ; \(context)")
                    #expect(log.recovered == found.count)
                    history = found.map { ($0.message, $0.end) }
                    acknowledged = 0
                    floor = 0
                }
            }
        }
        print("OutboxModelTests: \(appended) messages stored, \(reopens) reopens, \(cuts) power cuts mid-write, \(fulls) refused as full")
        #expect(cuts > 100 && fulls > 100 && reopens > 500, "the runs reached the cases they are for")
    }
}
