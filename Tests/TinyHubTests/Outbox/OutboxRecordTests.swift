import Foundation
import Testing
@testable import TinyHub
import TinyPlatform

/// The outbox's bytes on storage and what recovery makes of damaged ones. Expected layouts and
/// record boundaries come from the format as docs/reliability.md documents it (16-byte header,
/// bag, payload, CRC-32; records from offset 128; checkpoint slots at 0 and 64), computed here.
@Suite struct OutboxRecordTests {
    static let messages: [StoredMessage] = [
        .text("%24.mid=a-1", "{\"seq\":1}"),
        .text("%24.mid=a-2&%24.ct=application%2Fjson", "{\"seq\":2,\"long\":\"" + String(repeating: "x", count: 90) + "\"}"),
        .text("", ""),
        .text("k=v", "{\"seq\":4}"),
    ]

    @Test func crc32MatchesTheStandardCheckValues() {
        func crc(_ text: String) -> UInt32 { Array(text.utf8).withUnsafeBytes { CRC32.checksum($0) } }
        #expect(crc("123456789") == 0xCBF4_3926)
        #expect(crc("") == 0)
        #expect(crc("The quick brown fox jumps over the lazy dog") == 0x414F_A339)
        var random = SeededRandom()
        for length in 0..<300 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            #expect(bytes.withUnsafeBytes { CRC32.checksum($0) } == referenceCRC32(bytes), random.comment("length \(length)"))
        }
    }

    @Test func recordsAndCheckpointsAreTheDocumentedBytes() throws {
        let storage = TestStorage(capacity: 1_024)
        let staging = Staging()
        var log = try openLog(storage, staging)
        let first = StoredMessage.text("%24.mid=a-1", "{\"t\":1}")
        try log.append(first, staging: staging)
        let bytes = storage.bytes
        // A fresh store gets both checkpoints (generations 1 at 64, 2 at 0), tail 128, sequence 1.
        for (offset, generation) in [(64, 1), (0, 2)] {
            #expect(Array(bytes[offset..<(offset + 8)]) == Array("TBOX".utf8) + [1, 0, 0, 0])
            #expect(littleEndian(bytes, offset + 8, 8) == UInt64(generation))
            #expect(littleEndian(bytes, offset + 16, 4) == 1_024)
            #expect(littleEndian(bytes, offset + 20, 4) == 128)
            #expect(littleEndian(bytes, offset + 24, 8) == 1)
            #expect(littleEndian(bytes, offset + 32, 4) == UInt64(referenceCRC32(Array(bytes[offset..<(offset + 32)]))))
        }
        var expected: [UInt8] = [0x4D, 0, 11, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0] + first.bag + first.payload
        let crc = referenceCRC32(expected)
        expected += [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 24)]
        #expect(Array(bytes[128..<(128 + expected.count)]) == expected)
        #expect(bytes[(128 + expected.count)...].allSatisfy { $0 == 0 }, "nothing written after the record")
        #expect(storage.syncs == 3, "two checkpoints and the record, each synced")
    }

    /// A store holding `messages`, freshly formatted (zeros behind the last record unless `fill`).
    func store(_ messages: [StoredMessage], capacity: Int = 2_048, fill: UInt8 = 0) throws -> TestStorage {
        let storage = TestStorage(capacity: capacity, fill: fill)
        let staging = Staging()
        var log = try openLog(storage, staging)
        for message in messages { try log.append(message, staging: staging) }
        return storage
    }

    func recovered(_ storage: TestStorage) throws -> [StoredMessage] {
        let staging = Staging()
        let log = try openLog(storage, staging)
        let contents = try log.contents(staging: staging).map(\.message)
        #expect(log.recovered == contents.count)
        return contents
    }

    @Test func everyTornPrefixOfTheLastRecordIsDroppedAndTheRestKept() throws {
        for fill: UInt8 in [0x00, 0xFF, 0x4D] { // fresh, erased flash, bytes that look like a record kind
            let before = try store(Array(Self.messages.prefix(3)), fill: fill)
            let after = try store(Self.messages, fill: fill)
            let start = 128 + Self.messages.prefix(3).reduce(0) { $0 + $1.recordBytes }
            let length = Self.messages[3].recordBytes
            #expect(Array(before.bytes[0..<start]) == Array(after.bytes[0..<start]))
            for cut in 0...length {
                let torn = TestStorage(copying: before)
                torn.bytes.replaceSubrange(start..<(start + cut), with: after.bytes[start..<(start + cut)])
                let expected = cut == length ? Self.messages : Array(Self.messages.prefix(3))
                #expect(try recovered(torn) == expected, "fill \(fill), cut after \(cut) of \(length) bytes")
            }
        }
    }

    @Test func aFlippedBitAnywhereNeverChangesAMessage() throws {
        let clean = try store(Self.messages)
        var ends: [Int] = []
        var offset = 128
        for message in Self.messages { offset += message.recordBytes; ends.append(offset) }
        for byte in 0..<(ends.last! + 40) {
            for bit in 0..<8 {
                let damaged = TestStorage(copying: clean)
                damaged.bytes[byte] ^= 1 << bit
                let got = try recovered(damaged)
                let expected: [StoredMessage]
                if byte < 128 || byte >= ends.last! {
                    expected = Self.messages // a checkpoint slot (the other one stands in) or past the end
                } else {
                    expected = Array(Self.messages.prefix(ends.firstIndex { byte < $0 }!))
                }
                #expect(got == expected, "bit \(bit) of byte \(byte)")
            }
        }
    }

    @Test func garbageAfterTheLastRecordIsIgnored() throws {
        var random = SeededRandom()
        let clean = try store(Self.messages)
        let end = 128 + Self.messages.reduce(0) { $0 + $1.recordBytes }
        for round in 0..<50 {
            let dirty = TestStorage(copying: clean)
            for i in end..<dirty.bytes.count { dirty.bytes[i] = UInt8.random(in: 0...255, using: &random) }
            #expect(try recovered(dirty) == Self.messages, random.comment("round \(round)"))
        }
        // An intact earlier record copied behind the last one: its sequence (1) is not the next (5).
        let copied = TestStorage(copying: clean)
        let first = Self.messages[0].recordBytes
        copied.bytes.replaceSubrange(end..<(end + first), with: clean.bytes[128..<(128 + first)])
        #expect(try recovered(copied) == Self.messages)
    }

    @Test func aFullStoreRefusesNewMessagesAndKeepsTheStoredOnes() throws {
        // 512 bytes: records from 128, 384 bytes of ring. 10 + 30 bytes make 60-byte records: 6 fit.
        let message = { (i: Int) in StoredMessage(bag: Array(String(format: "%%24.mid=%02d", i).utf8), payload: [UInt8](repeating: UInt8(i), count: 30)) }
        let storage = TestStorage(capacity: 512)
        let staging = Staging()
        var log = try openLog(storage, staging)
        var ends: [Int] = []
        for i in 1...6 { ends.append(try log.append(message(i), staging: staging).end) }
        #expect(ends == [188, 248, 308, 368, 428, 488])
        #expect(throws: OutboxError.self) { try log.append(message(7), staging: staging) }
        do { try log.append(message(7), staging: staging) } catch {
            guard case .full(let needed) = error else { Issue.record("\(error)"); return }
            #expect(needed == 60)
        }
        #expect(try recovered(storage) == (1...6).map(message), "nothing stored was dropped")
        // Two acknowledged: 24 bytes are left at the end (a wrap record), the 7th and 8th go to 128 and 188.
        log.releaseOldest(end: ends[0])
        log.releaseOldest(end: ends[1])
        try log.append(message(7), staging: staging)
        try log.append(message(8), staging: staging)
        #expect(throws: OutboxError.self) { try log.append(message(9), staging: staging) }
        #expect(storage.bytes[488] == 0x57, "a wrap record where the 7th did not fit")
        #expect(try recovered(storage) == (3...8).map(message))
    }

    @Test func aMessageLargerThanTheStoreIsRefusedAsTooLarge() throws {
        let storage = TestStorage(capacity: 512)
        let staging = Staging()
        var log = try openLog(storage, staging)
        do {
            try log.append(StoredMessage(bag: [], payload: [UInt8](repeating: 1, count: 365)), staging: staging)
            Issue.record("a 385-byte record fit a 384-byte ring")
        } catch {
            guard case .messageTooLarge(let size, let limit) = error else { Issue.record("\(error)"); return }
            #expect(size == 385 && limit == 384)
        }
        try log.append(StoredMessage(bag: [], payload: [UInt8](repeating: 1, count: 364)), staging: staging)
    }

    @Test func aStoreFormattedForAnotherSizeIsRefused() throws {
        let storage = try store(Self.messages, capacity: 1_024)
        storage.bytes += [UInt8](repeating: 0, count: 1_024)
        #expect(throws: OutboxError.self) { try openLog(storage, Staging()) }
    }

    @Test func acknowledgedSpaceIsReusedRoundAndRound() throws {
        // 100 laps of a 1 KB ring with messages acknowledged in order: never full, and a reopen at
        // any point finds exactly the unacknowledged ones once the checkpoint is written.
        var random = SeededRandom()
        let storage = TestStorage(capacity: 1_024)
        let staging = Staging()
        var log = try openLog(storage, staging)
        var live: [(StoredMessage, Int)] = []
        for i in 0..<2_000 {
            let message = StoredMessage(bag: Array("%24.mid=\(i)".utf8), payload: (0..<Int.random(in: 0...80, using: &random)).map { _ in UInt8(i & 0xFF) })
            let record = try log.append(message, staging: staging)
            live.append((message, record.end))
            while live.count > Int.random(in: 0...4, using: &random) {
                log.releaseOldest(end: live.removeFirst().1)
            }
            if i % 7 == 0 {
                try log.writeCheckpoint()
                #expect(try recovered(TestStorage(copying: storage)) == live.map(\.0), random.comment("message \(i)"))
            }
        }
    }
}
