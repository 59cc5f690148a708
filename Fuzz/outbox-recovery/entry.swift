// libFuzzer entry for the outbox's recovery scan (`OutboxLog.init` over a store image), the
// reader of records and what comes after recovery (append, acknowledge, checkpoint, reopen).
//
// Input layout: byte 0 = flags, the rest = the store image (at least 256 bytes: zeros are added;
// at most 4,096). So that the fuzzer gets past the checksums, the entry seals what the flags ask
// for before opening: bit 0 writes the store's size into checkpoint slot A and its CRC-32, bit 1
// does the same for slot B, bit 2 follows the chain from slot A's tail as the documented format
// reads it and writes each record's CRC-32 (and a wrap record's) as if it had been written whole.
// The staging buffer is 300 bytes, so larger records take the piece-by-piece checksum path.
//
// Oracle (any violation traps with a message):
// - opening never traps; it throws only `capacityMismatch` or `messageTooLarge`;
// - every recovered record reads back intact, in order, from the tail to the head, and `recovered`
//   counts them;
// - after appending one message, acknowledging the oldest and writing a checkpoint, a reopen
//   recovers the records still unacknowledged, byte for byte, first; after them may come only
//   records that were in the input already, byte for byte (a record behind a damaged one can be
//   reached again once a new record of the right length is written before it: a real message,
//   never acknowledged, sent again with its id), never anything else.
// - a store without a valid checkpoint keeps none of its old records;
// - the reopen may throw `messageTooLarge` only when the input held an intact record larger than
//   the staging buffer (the new record can link the chain to it, and such a record is refused).
@testable import TinyHub
import TinyPlatform

@inline(never)
func fuzzFail(_ message: String, line: UInt = #line) -> Never {
    fatalError("fuzz oracle: \(message)", line: line)
}

func check(_ condition: Bool, _ message: @autoclosure () -> String, line: UInt = #line) {
    if !condition { fuzzFail(message(), line: line) }
}

func storeLE(_ bytes: UnsafeMutableRawBufferPointer, _ value: UInt64, at offset: Int, count: Int) {
    for i in 0..<count { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * i)) }
}

func loadLE(_ bytes: UnsafeMutableRawBufferPointer, at offset: Int, count: Int) -> UInt64 {
    var value: UInt64 = 0
    for i in 0..<count { value |= UInt64(bytes[offset + i]) << UInt64(8 * i) }
    return value
}

func crc(_ bytes: UnsafeMutableRawBufferPointer, _ range: Range<Int>) -> UInt64 {
    UInt64(CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[range])))
}

/// Seals checkpoint slot `slot` (capacity field = the store's size, then its CRC-32).
func sealCheckpoint(_ store: UnsafeMutableRawBufferPointer, slot: Int) {
    let at = slot * 64
    storeLE(store, UInt64(store.count), at: at + 16, count: 4)
    storeLE(store, crc(store, at..<(at + 32)), at: at + 32, count: 4)
}

/// Follows the chain from slot A's tail, sealing each record the way the reader expects it.
func sealChain(_ store: UnsafeMutableRawBufferPointer) {
    let capacity = store.count
    var position = Int(loadLE(store, at: 20, count: 4))
    var sequence = loadLE(store, at: 24, count: 8)
    for _ in 0..<(capacity / 20) {
        if position < 128 || position > capacity - 20 { position = 128 }
        if store[position] == 0x57, position != 128 {
            store[position + 1] = 0
            storeLE(store, 0, at: position + 2, count: 6)
            storeLE(store, sequence, at: position + 8, count: 8)
            storeLE(store, crc(store, position..<(position + 16)), at: position + 16, count: 4)
            position = 128
        }
        guard store[position] == 0x4D else { return }
        store[position + 1] = 0
        storeLE(store, sequence, at: position + 8, count: 8)
        let total = 20 + Int(loadLE(store, at: position + 2, count: 2)) + Int(loadLE(store, at: position + 4, count: 4))
        guard total <= capacity - position else { return }
        storeLE(store, crc(store, position..<(position + total - 4)), at: position + total - 4, count: 4)
        position += total
        sequence &+= 1
    }
}

/// The live records from the tail, each as its bytes (header with sequence, bag, payload).
func contents(_ log: OutboxLog<OutboxMemoryStorage>, _ staging: UnsafeMutableRawBufferPointer) -> [[UInt8]] {
    var result: [[UInt8]] = []
    var position = log.tail
    var sequence = log.tailSequence
    while sequence != log.headSequence {
        guard case .record(let record)? = try? log.read(at: position, sequence: sequence, into: staging) else {
            fuzzFail("record \(sequence) at \(position) of a recovered chain does not read back")
        }
        result.append(Array(UnsafeRawBufferPointer(rebasing: staging[0..<record.totalBytes])))
        position = record.end
        sequence &+= 1
    }
    return result
}

/// Whether the image holds, anywhere in its record area, an intact message record larger than
/// `staging` bytes (a store written with larger buffers): recovery refuses one it reaches.
func holdsRecordTooLarge(_ image: [UInt8], staging: Int) -> Bool {
    image.withUnsafeBytes { raw in
        for at in OutboxFormat.dataStart..<(raw.count - OutboxFormat.wrapBytes) where raw[at] == OutboxFormat.message {
            let total = OutboxFormat.recordBytes(bag: Int(raw.loadLE(at: at + 2, bytes: 2)), payload: Int(raw.loadLE(at: at + 4, bytes: 4)))
            guard total > staging, total <= raw.count - at else { continue }
            if OutboxLog<OutboxMemoryStorage>.checksumMatches(UnsafeRawBufferPointer(rebasing: raw[at..<(at + total)])) { return true }
        }
        return false
    }
}

/// Whether `bytes` occur in `haystack`.
func contains(_ haystack: [UInt8], _ bytes: [UInt8]) -> Bool {
    guard !bytes.isEmpty, bytes.count <= haystack.count else { return bytes.isEmpty }
    for start in 0...(haystack.count - bytes.count) where haystack[start] == bytes[0] {
        if Array(haystack[start..<(start + bytes.count)]) == bytes { return true }
    }
    return false
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let flags = data[0]
    let capacity = min(4_096, max(256, size - 1))
    let store = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 8)
    let staging = UnsafeMutableRawBufferPointer.allocate(byteCount: 300, alignment: 8)
    defer { store.deallocate(); staging.deallocate() }
    store.initializeMemory(as: UInt8.self, repeating: 0)
    store.copyMemory(from: UnsafeRawBufferPointer(start: data + 1, count: min(size - 1, capacity)))
    if flags & 1 != 0 { sealCheckpoint(store, slot: 0) }
    if flags & 2 != 0 { sealCheckpoint(store, slot: 1) }
    if flags & 4 != 0 { sealChain(store) }

    let original = Array(UnsafeRawBufferPointer(store))
    let storage = OutboxMemoryStorage(region: store)
    var log: OutboxLog<OutboxMemoryStorage>
    do throws(OutboxError) {
        log = try OutboxLog(storage: storage, staging: staging, syncs: true)
    } catch {
        switch error {
        case .capacityMismatch, .messageTooLarge: return 0
        default: fuzzFail("open threw \(error)")
        }
    }
    var live = contents(log, staging)
    let slots = original.withUnsafeBytes { raw in
        (OutboxCheckpoint.decode(UnsafeRawBufferPointer(rebasing: raw[0..<36])),
         OutboxCheckpoint.decode(UnsafeRawBufferPointer(rebasing: raw[64..<100])))
    }
    if slots.0 == nil, slots.1 == nil {
        check(store[OutboxFormat.dataStart...].allSatisfy { $0 == 0 }, "a store formatted anew kept old bytes in its record area")
    }
    check(live.count == log.recovered && live.count == log.count, "recovered \(log.recovered), chain \(live.count)")

    // Go on from there: one message in, the oldest out, a checkpoint, a reopen.
    let payload: [UInt8] = Array("{\"fuzz\":1}".utf8), bag: [UInt8] = Array("%24.mid=f".utf8)
    let appended = payload.withUnsafeBytes { p in bag.withUnsafeBytes { b in try? log.append(bag: b, payload: p, staging: staging) } }
    if let appended {
        live.append(Array(UnsafeRawBufferPointer(rebasing: staging[0..<appended.totalBytes])))
    }
    if !live.isEmpty {
        guard case .record(let oldest)? = try? log.read(at: log.tail, sequence: log.tailSequence, into: staging) else {
            fuzzFail("the oldest record does not read back")
        }
        log.releaseOldest(end: oldest.end)
        live.removeFirst()
    }
    guard (try? log.writeCheckpoint()) != nil else { fuzzFail("checkpoint write failed") }
    let reopened: OutboxLog<OutboxMemoryStorage>
    do {
        reopened = try OutboxLog(storage: storage, staging: staging, syncs: true)
    } catch {
        // The new record may link the chain to an old record behind the end (see the header);
        // if that one is intact and larger than staging, the store is refused as documented.
        if case .messageTooLarge = error, holdsRecordTooLarge(original, staging: staging.count) { return 0 }
        fuzzFail("reopen threw \(error)")
    }
    let again = contents(reopened, staging)
    check(again.count >= live.count && Array(again.prefix(live.count)) == live,
          "reopened \(again.count) records, expected \(live.count) first")
    for extra in again.dropFirst(live.count) {
        check(contains(original, extra), "a record after the live ones that was not in the input")
    }
    return 0
}
