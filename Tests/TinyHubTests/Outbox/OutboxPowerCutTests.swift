import Foundation
import Testing
@testable import TinyHub
import TinyPlatform

/// Power cut at every byte: a store file cut short at each offset from 0 to its size (a real
/// file, truncated, then opened through `StorageFile`, which grows it back with zeros), and the
/// store with each byte flipped. Stores come from seeded runs of appends, in-order
/// acknowledgements and checkpoints, some with the live records wrapping round the end of the
/// ring. Recovery must never trap, never return a message that was not written, byte for byte,
/// and return exactly the live records that lie wholly before the cut or the damage.
@Suite struct OutboxPowerCutTests {
    /// A store after a seeded run: its bytes, every message ever written (oldest first), and the
    /// live records in chain order with the bytes each needs intact (its wrap marker included).
    struct Scenario {
        var image: [UInt8]
        var written: [StoredMessage]
        var live: [LiveRecord]
        var wraps: Bool { live.contains { $0.marker != nil } }
    }

    /// A live record: its bytes, and those of the wrap marker in front of it if it has one.
    struct LiveRecord {
        var message: StoredMessage
        var bytes: Range<Int>
        var marker: Range<Int>?
        /// Bytes up to here must be intact for recovery to reach past this record.
        var needs: Int { max(bytes.upperBound, marker?.upperBound ?? 0) }
        func covers(_ offset: Int) -> Bool { bytes.contains(offset) || marker?.contains(offset) == true }
    }

    static func scenario(seed: UInt64, capacity: Int, steps: Int) throws -> Scenario {
        var random = SeededRandom(seed: seed)
        let storage = TestStorage(capacity: capacity, fill: UInt8.random(in: 0...255, using: &random))
        let staging = Staging()
        var log = try openLog(storage, staging)
        var written: [StoredMessage] = []
        var live: [(StoredMessage, Int)] = []
        for step in 0..<steps {
            let message = StoredMessage(bag: Array("%24.mid=s\(seed)-\(step)".utf8),
                                        payload: (0..<Int.random(in: 0...90, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
            if let record = try? log.append(message, staging: staging) {
                written.append(message)
                live.append((message, record.end))
            }
            while !live.isEmpty, Int.random(in: 0..<3, using: &random) == 0 {
                log.releaseOldest(end: live.removeFirst().1)
            }
            if Bool.random(using: &random) { try log.writeCheckpoint() }
        }
        try log.writeCheckpoint()
        // The chain as recovery follows it, from the checkpoint's tail.
        var chain: [LiveRecord] = []
        var position = log.tail
        var sequence = log.tailSequence
        while sequence < log.headSequence {
            guard case .record(let record) = try log.read(at: position, sequence: sequence, into: staging.buffer) else {
                throw OutboxTestFailure("record \(sequence) does not read back")
            }
            let bag = Array(UnsafeRawBufferPointer(rebasing: staging.buffer[16..<(16 + record.bagLength)]))
            let payload = Array(UnsafeRawBufferPointer(rebasing: staging.buffer[(16 + record.bagLength)..<(16 + record.bagLength + record.payloadLength)]))
            // A record that starts somewhere else than where it was looked for sits behind a wrap marker there.
            let marker = record.start == position ? nil : position..<(position + OutboxFormat.wrapBytes)
            chain.append(LiveRecord(message: StoredMessage(bag: bag, payload: payload),
                                    bytes: record.start..<(record.start + record.totalBytes), marker: marker))
            position = record.end
            sequence += 1
        }
        #expect(chain.map(\.message) == live.map(\.0), "seed \(seed)")
        return Scenario(image: storage.bytes, written: written, live: chain)
    }

    static let scenarios: [(seed: UInt64, capacity: Int, steps: Int)] = [
        (1, 700, 40), (2, 1_024, 60), (3, 512, 30), (4, 1_500, 25), (5, 900, 80), (6, 2_000, 12),
    ]

    /// Whether `found` is a run of consecutive messages of `written`, byte for byte.
    static func isRun(_ found: [StoredMessage], of written: [StoredMessage]) -> Bool {
        guard let first = found.first else { return true }
        return written.indices.contains { start in
            written[start] == first && start + found.count <= written.count && Array(written[start..<(start + found.count)]) == found
        }
    }

    /// Live records kept whole by a cut at `cut` (bytes from `cut` on are gone).
    static func keptBefore(_ cut: Int, _ scenario: Scenario) -> Int {
        guard cut >= OutboxFormat.dataStart else { return 0 }
        return scenario.live.firstIndex { $0.needs > cut } ?? scenario.live.count
    }

    @Test func aFileCutAtEveryOffsetRecoversExactlyTheWholeRecordsBeforeTheCut() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tinyhub-powercut-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("outbox.bin").path
        var wrapped = 0, opened = 0
        for setup in Self.scenarios {
            let scenario = try Self.scenario(seed: setup.seed, capacity: setup.capacity, steps: setup.steps)
            #expect(!scenario.live.isEmpty, "seed \(setup.seed) leaves records to recover")
            if scenario.wraps { wrapped += 1 }
            for cut in 0...scenario.image.count {
                try Data(scenario.image[0..<cut]).write(to: URL(fileURLWithPath: path))
                let file = try StorageFile.open(path: path, size: setup.capacity)
                let staging = Staging()
                let log = try OutboxLog(storage: file, staging: staging.buffer, syncs: true)
                let found = try log.contents(staging: staging).map(\.message)
                opened += 1
                let expected = Array(scenario.live.prefix(Self.keptBefore(cut, scenario)).map(\.message))
                #expect(found == expected, "seed \(setup.seed), file cut at \(cut) of \(scenario.image.count)")
                #expect(Self.isRun(found, of: scenario.written), "seed \(setup.seed), cut at \(cut): a message never written")
                #expect(log.recovered == found.count)
            }
        }
        #expect(wrapped >= 2, "some stores have live records on both sides of the ring's end")
        #expect(opened == Self.scenarios.reduce(0) { $0 + $1.capacity + 1 })
    }

    @Test func aDamagedLengthIsSkippedWhileAnIntactRecordTooLargeForStagingIsRefused() throws {
        // An 8 KB store written through a 4 KB staging buffer, read back through 100 bytes.
        let storage = TestStorage(capacity: 8_192)
        let large = Staging(4_096), small = Staging(100)
        var log = try openLog(storage, large)
        let messages = (1...3).map { StoredMessage.text("%24.mid=\($0)", "{\"n\":\($0)}") }
        for message in messages { try log.append(message, staging: large) }
        // Every bit of the last record's two length fields: a length that claims more than the
        // staging buffer is checked piece by piece, found damaged and dropped, never refused.
        let start = 128 + messages[0].recordBytes + messages[1].recordBytes
        for byte in (start + 2)..<(start + 8) {
            for bit in 0..<8 {
                let damaged = TestStorage(copying: storage)
                damaged.bytes[byte] ^= 1 << bit
                let reopened = try OutboxLog(storage: damaged, staging: small.buffer, syncs: true)
                #expect(try reopened.contents(staging: small).map(\.message) == Array(messages.prefix(2)), "bit \(bit) of byte \(byte)")
            }
        }
        // An intact record larger than the staging buffer: refused with the size it needs.
        let big = StoredMessage(bag: [], payload: [UInt8](repeating: 7, count: 3_000))
        try log.append(big, staging: large)
        do {
            _ = try OutboxLog(storage: storage, staging: small.buffer, syncs: true)
            Issue.record("a 3,020-byte record opened through 100 bytes")
        } catch {
            guard case .messageTooLarge(let size, let limit) = error else { Issue.record("\(error)"); return }
            #expect(size == 3_020 && limit == 100)
        }
        #expect(try openLog(storage, large).contents(staging: large).map(\.message) == messages + [big])
    }

    @Test func generationsAndSequencesCountOnThroughUInt64Max() throws {
        // A checkpoint may carry any generation and sequence (found by Fuzz/outbox-recovery:
        // generation + 1 trapped at UInt64.max). Both count on modulo 2^64, and the newer slot is
        // chosen in serial-number order, so a log started just below the top wraps without a trap,
        // a lost message or an old slot taken for the newer one.
        for (generation, sequence) in [(UInt64.max - 1, UInt64.max - 1), (UInt64.max, 5), (7, UInt64.max)] {
            let storage = TestStorage(capacity: 512)
            storage.bytes.withUnsafeMutableBytes { raw in
                let slot = UnsafeMutableRawBufferPointer(rebasing: raw[0..<OutboxFormat.checkpointBytes])
                OutboxCheckpoint(generation: generation, capacity: 512, tail: 128, sequence: sequence).encode(into: slot)
            }
            let staging = Staging()
            var log = try openLog(storage, staging)
            let messages = (1...3).map { StoredMessage.text("%24.mid=w-\($0)", "{}") }
            var ends: [Int] = []
            for message in messages { ends.append(try log.append(message, staging: staging).end) }
            let context = "generation \(generation), sequence \(sequence)"
            #expect(try openLog(storage, staging).contents(staging: staging).map(\.message) == messages, "all three stored: \(context)")
            for acknowledged in 1...3 {
                log.releaseOldest(end: ends[acknowledged - 1])
                try log.writeCheckpoint()
                let reopened = try openLog(storage, staging)
                #expect(try reopened.contents(staging: staging).map(\.message) == Array(messages[acknowledged...]), "\(context), \(acknowledged) acknowledged")
                #expect(reopened.count == 3 - acknowledged)
            }
        }
    }

    @Test func theNextCheckpointNeverOverwritesTheNewestWhateverItsSlot() throws {
        // Found by Fuzz/outbox-recovery: the newest checkpoint (generation 2^63 + 1) sat in slot A
        // and a stale one (generation 1) in slot B. The next checkpoint went by parity into slot A,
        // over the newest, and a reopen then took slot B, 2^63 - 1 behind, for the newer: its old
        // tail and sequence lost every live message. It goes into the other slot now.
        let storage = TestStorage(capacity: 512)
        storage.bytes.withUnsafeMutableBytes { raw in
            OutboxCheckpoint(generation: 1 << 63 | 1, capacity: 512, tail: 128, sequence: 7)
                .encode(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<OutboxFormat.checkpointBytes]))
            OutboxCheckpoint(generation: 1, capacity: 512, tail: 128, sequence: 1)
                .encode(into: UnsafeMutableRawBufferPointer(rebasing: raw[64..<(64 + OutboxFormat.checkpointBytes)]))
        }
        let staging = Staging()
        var log = try openLog(storage, staging)
        let messages = (1...3).map { StoredMessage.text("%24.mid=s-\($0)", "{}") }
        let ends = try messages.map { message in try log.append(message, staging: staging).end }
        log.releaseOldest(end: ends[0])
        try log.writeCheckpoint()
        let reopened = try openLog(storage, staging)
        #expect(try reopened.contents(staging: staging).map(\.message) == Array(messages[1...]))
        #expect(reopened.tailSequence == 8)
    }

    @Test func aStoreThatLostBothCheckpointsNeverResendsItsOldRecords() throws {
        // Intact records 1-3, both checkpoint slots destroyed: the store is formatted again and its
        // sequences start at 1 again. Found by Fuzz/outbox-recovery: a new record a byte shorter than
        // the old first one left the old second one (sequence 2) exactly where the chain goes on.
        let old = (1...3).map { StoredMessage.text("%24.mid=old-\($0)", "{\"n\":\($0)}") }
        let storage = TestStorage(capacity: 1_024)
        let staging = Staging()
        var log = try openLog(storage, staging)
        for message in old { try log.append(message, staging: staging) }
        for i in 0..<128 { storage.bytes[i] = 0xEE }
        log = try openLog(storage, staging)
        #expect(log.recovered == 0)
        #expect(storage.bytes[128...].allSatisfy { $0 == 0 }, "the old records are gone")
        let new = StoredMessage.text("%24.mid=new", "{}")
        let record = try log.append(new, staging: staging)
        log.releaseOldest(end: record.end)
        try log.writeCheckpoint()
        #expect(try openLog(storage, staging).contents(staging: staging).isEmpty)
    }

    @Test func aFlippedByteAnywhereNeverYieldsAMessageThatWasNotWritten() throws {
        for setup in Self.scenarios {
            let scenario = try Self.scenario(seed: setup.seed, capacity: setup.capacity, steps: setup.steps)
            for offset in 0..<scenario.image.count {
                for mask: UInt8 in [0xFF, 0x01, 0x80] {
                    let storage = TestStorage(capacity: setup.capacity)
                    storage.bytes = scenario.image
                    storage.bytes[offset] ^= mask
                    let staging = Staging()
                    let log = try openLog(storage, staging)
                    let found = try log.contents(staging: staging).map(\.message)
                    let context = "seed \(setup.seed), byte \(offset) ^ \(mask)"
                    #expect(Self.isRun(found, of: scenario.written), "\(context): a message never written")
                    guard offset >= OutboxFormat.dataStart else {
                        // A damaged checkpoint: the other slot stands in (it may point further back).
                        continue
                    }
                    // Damage inside the chain ends it before the damaged record; elsewhere it changes nothing.
                    let hit = scenario.live.firstIndex { $0.covers(offset) } ?? scenario.live.count
                    #expect(found == Array(scenario.live.prefix(hit).map(\.message)), "\(context)")
                }
            }
        }
    }
}
