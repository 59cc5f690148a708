import TinyBytes
import TinyPlatform

/// Where a record sits in the ring and how big its parts are; its bytes are in the staging
/// buffer it was read into or assembled in (header at 0, bag at 16, payload after the bag).
struct OutboxRecord {
    /// The sequence number.
    var sequence: UInt64
    /// The offset of its header (after a wrap, `dataStart`).
    var start: Int
    /// Where the next record in the chain starts.
    var end: Int
    var bagLength: Int
    var payloadLength: Int

    var totalBytes: Int { OutboxFormat.recordBytes(bag: bagLength, payload: payloadLength) }
}

/// What is at a position of the chain.
enum OutboxRead {
    /// The record expected there, intact.
    case record(OutboxRecord)
    /// Something else: nothing written yet, a torn or damaged record, one from an earlier lap.
    case invalid
    /// An intact record larger than the staging buffer (its checksum checked piece by piece):
    /// the store was written with a larger one. A damaged length reads as `invalid`.
    case tooLarge(Int)
}

/// The ring of records on storage (`OutboxFormat`): recovery, append, the acknowledged-up-to
/// marker (checkpoint). Knows nothing of MQTT; `TelemetryOutbox` drives it.
///
/// Positions: `tail` (oldest record not yet acknowledged, sequence `tailSequence`) up to `head`
/// (where the next record goes, `headSequence`) are the live records, a chain the reader follows
/// from the checkpoint's tail. Space is reused only behind the tail as the newest checkpoint
/// records it (`durableTail`): recovery must always find the chain where the checkpoint says.
/// Every operation does bounded work: an append writes one record (plus a wrap record, plus at
/// most one checkpoint) and syncs once or twice.
struct OutboxLog<S: OutboxStorage> {
    let storage: S
    let capacity: Int
    let syncs: Bool
    private(set) var tail: Int
    private(set) var tailSequence: UInt64
    private(set) var durableTail: Int
    private(set) var durableSequence: UInt64
    private(set) var head: Int
    private(set) var headSequence: UInt64
    private var generation: UInt64 = 0
    /// The slot holding the newest checkpoint; the next one goes into the other. Tracked, not
    /// taken from the generation's parity: a store may hold the newest in either slot, and
    /// overwriting it would leave the older one, whatever its generation, to be read as newer.
    private var newestSlot = 0
    /// Records found by recovery.
    private(set) var recovered = 0

    /// Records not yet acknowledged.
    var count: Int { Int(truncatingIfNeeded: headSequence &- tailSequence) }

    /// Opens the log in `storage`: reads the newer valid checkpoint and follows the chain from it
    /// to the first position that does not hold the next record intact (the end, or a torn
    /// write); a store without a valid checkpoint is formatted empty (its record area zeroed).
    /// `staging` must hold the largest record.
    init(storage: S, staging: UnsafeMutableRawBufferPointer, syncs: Bool) throws(OutboxError) {
        self.storage = storage
        self.capacity = storage.capacity
        self.syncs = syncs
        guard capacity >= 2 * OutboxFormat.dataStart, UInt64(capacity) <= UInt64(UInt32.max),
              staging.count >= OutboxFormat.checkpointBytes else { throw .invalidCapacity(capacity) }
        var newest: OutboxCheckpoint? = nil
        var newestSlot = 0
        for slot in 0..<2 {
            let bytes = UnsafeMutableRawBufferPointer(rebasing: staging[0..<OutboxFormat.checkpointBytes])
            do { try storage.read(at: slot * OutboxFormat.slotSize, into: bytes) } catch { throw .storage(error) }
            guard let checkpoint = OutboxCheckpoint.decode(UnsafeRawBufferPointer(bytes)) else { continue }
            // Serial-number order (RFC 1982): generations and sequences count on through UInt64.max.
            if newest == nil || Int64(bitPattern: checkpoint.generation &- newest!.generation) > 0 {
                newest = checkpoint
                newestSlot = slot
            }
        }
        // With no checkpoint, slot A counts as the newest: a fresh store's first checkpoint
        // (generation 1) goes into slot B, its second into A.
        self.newestSlot = newestSlot
        if let newest, newest.capacity != capacity { throw .capacityMismatch(stored: newest.capacity, configured: capacity) }
        var start = -1
        if let newest, Self.isPosition(newest.tail, capacity: storage.capacity) { start = newest.tail }
        tail = start >= 0 ? start : OutboxFormat.dataStart
        tailSequence = start >= 0 ? newest!.sequence : 1
        durableTail = tail
        durableSequence = tailSequence
        head = tail
        headSequence = tailSequence
        generation = newest?.generation ?? 0
        guard start >= 0 else {
            // Records of an earlier life of the store (both checkpoints lost) must not pass for the
            // new chain's: its sequences start again. Then both slots, so one damaged slot later
            // still leaves the other pointing at the chain.
            do throws(StorageError) {
                try eraseRecords(staging)
                try writeCheckpoint()
                try writeCheckpoint()
            } catch {
                throw .storage(error)
            }
            return
        }
        // Each step moves forward by at least one record's bytes: a chain longer than this has looped.
        for _ in 0..<(capacity / OutboxFormat.wrapBytes) {
            let found: OutboxRead
            do { found = try read(at: head, sequence: headSequence, into: staging) } catch { throw .storage(error) }
            guard case .record(let record) = found else {
                if case .tooLarge(let size) = found { throw .messageTooLarge(size: size, limit: staging.count) }
                break
            }
            head = record.end
            headSequence &+= 1
            recovered += 1
        }
    }

    /// Zeros the record area through `staging`, a piece at a time, writing only the pieces that
    /// are not zero already (a fresh store costs reads only). Synced with the checkpoint after it.
    private func eraseRecords(_ staging: UnsafeMutableRawBufferPointer) throws(StorageError) {
        var at = OutboxFormat.dataStart
        while at < capacity {
            let piece = UnsafeMutableRawBufferPointer(rebasing: staging[0..<min(staging.count, capacity - at)])
            try storage.read(at: at, into: piece)
            if piece.contains(where: { $0 != 0 }) {
                piece.initializeMemory(as: UInt8.self, repeating: 0)
                try storage.write(at: at, UnsafeRawBufferPointer(piece))
            }
            at += piece.count
        }
    }

    /// Whether `offset` can start a record: in the ring with room for at least a wrap record.
    static func isPosition(_ offset: Int, capacity: Int) -> Bool {
        offset >= OutboxFormat.dataStart && offset <= capacity - OutboxFormat.wrapBytes
    }

    /// Where a chain position really starts: one with no room for a wrap record continues at the start.
    private func normalized(_ offset: Int) -> Int {
        Self.isPosition(offset, capacity: capacity) ? offset : OutboxFormat.dataStart
    }

    /// Reads the record with `sequence` at chain position `position` (following a wrap record)
    /// into `staging`.
    func read(at position: Int, sequence: UInt64, into staging: UnsafeMutableRawBufferPointer) throws(StorageError) -> OutboxRead {
        var at = normalized(position)
        let header = UnsafeMutableRawBufferPointer(rebasing: staging[0..<OutboxFormat.wrapBytes])
        try storage.read(at: at, into: header)
        if header[0] == OutboxFormat.wrap {
            guard at != OutboxFormat.dataStart, Self.matches(UnsafeRawBufferPointer(header), sequence: sequence, bag: 0, payload: 0)
            else { return .invalid }
            at = OutboxFormat.dataStart
            try storage.read(at: at, into: header)
        }
        guard header[0] == OutboxFormat.message else { return .invalid }
        // Lengths are checked as UInt64 before they become Int: a damaged header may claim up
        // to 4 GB, more than Int holds on a 32-bit device.
        let bag = UnsafeRawBufferPointer(header).loadLE(at: 2, bytes: 2)
        let payload = UnsafeRawBufferPointer(header).loadLE(at: 4, bytes: 4)
        let claimed = UInt64(OutboxFormat.recordBytes(bag: 0, payload: 0)) + bag + payload
        guard header[1] == 0, UnsafeRawBufferPointer(header).loadLE(at: 8, bytes: 8) == sequence,
              claimed <= UInt64(capacity - at) else { return .invalid }
        let total = Int(claimed)
        // Too large for staging: intact (a store written with a larger buffer) or damaged lengths?
        guard total <= staging.count else { return try isIntact(at: at, total: total, staging) ? .tooLarge(total) : .invalid }
        let record = UnsafeMutableRawBufferPointer(rebasing: staging[0..<total])
        try storage.read(at: at + OutboxFormat.wrapBytes, into: UnsafeMutableRawBufferPointer(rebasing: record[OutboxFormat.wrapBytes...]))
        guard Self.checksumMatches(UnsafeRawBufferPointer(record)) else { return .invalid }
        return .record(OutboxRecord(sequence: sequence, start: at, end: normalized(at + total), bagLength: Int(bag), payloadLength: Int(payload)))
    }

    /// Whether the `total` bytes at `at` end with the CRC-32 of the rest, read through `staging`
    /// a piece at a time (for a record larger than it).
    private func isIntact(at: Int, total: Int, _ staging: UnsafeMutableRawBufferPointer) throws(StorageError) -> Bool {
        let body = total - OutboxFormat.checksumBytes
        var state = CRC32.start
        var done = 0
        while done < body {
            let piece = UnsafeMutableRawBufferPointer(rebasing: staging[0..<min(staging.count, body - done)])
            try storage.read(at: at + done, into: piece)
            state = CRC32.update(state, UnsafeRawBufferPointer(piece))
            done += piece.count
        }
        let stored = UnsafeMutableRawBufferPointer(rebasing: staging[0..<OutboxFormat.checksumBytes])
        try storage.read(at: at + body, into: stored)
        return UnsafeRawBufferPointer(stored).loadLE(at: 0, bytes: 4) == UInt64(CRC32.finish(state))
    }

    /// Whether a wrap record's 20 bytes are intact and carry `sequence`.
    private static func matches(_ header: UnsafeRawBufferPointer, sequence: UInt64, bag: Int, payload: Int) -> Bool {
        header[1] == 0 && header.loadLE(at: 2, bytes: 2) == UInt64(bag) && header.loadLE(at: 4, bytes: 4) == UInt64(payload)
            && header.loadLE(at: 8, bytes: 8) == sequence && checksumMatches(header)
    }

    /// Whether the last 4 bytes are the CRC-32 of the rest.
    static func checksumMatches(_ record: UnsafeRawBufferPointer) -> Bool {
        let body = record.count - OutboxFormat.checksumBytes
        return record.loadLE(at: body, bytes: 4) == UInt64(CRC32.checksum(UnsafeRawBufferPointer(rebasing: record[0..<body])))
    }

    /// Writes the header fields and the checksum of a record whose bag and payload are already in place.
    private static func seal(_ record: UnsafeMutableRawBufferPointer, kind: UInt8, sequence: UInt64, bag: Int, payload: Int) {
        record[0] = kind
        record[1] = 0
        record.storeLE(UInt64(bag), at: 2, bytes: 2)
        record.storeLE(UInt64(payload), at: 4, bytes: 4)
        record.storeLE(sequence, at: 8, bytes: 8)
        let body = record.count - OutboxFormat.checksumBytes
        record.storeLE(UInt64(CRC32.checksum(UnsafeRawBufferPointer(rebasing: record[0..<body]))), at: body, bytes: 4)
    }

    /// Where a record of `total` bytes goes, keeping the live chain from `from` (holding `live`
    /// records) intact: `(wrapAt, at)` with the wrap record's position if one is needed.
    private func placement(_ total: Int, from start: Int, live: Int) -> (wrapAt: Int?, at: Int)? {
        if live == 0 { return head + total <= capacity ? (nil, head) : nil }
        if start < head {
            if head + total <= capacity { return (nil, head) }
            return OutboxFormat.dataStart + total <= start ? (head, OutboxFormat.dataStart) : nil
        }
        if head < start { return head + total <= start ? (nil, head) : nil }
        return nil // start == head with live records: the ring is full
    }

    /// Appends a message record (bag and payload copied into `staging` first) and syncs it.
    /// Returns it, still assembled in `staging`. Throws `full` when the live records leave no room.
    mutating func append(bag: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer,
                         staging: UnsafeMutableRawBufferPointer) throws(OutboxError) -> OutboxRecord {
        let total = OutboxFormat.recordBytes(bag: bag.count, payload: payload.count)
        let limit = min(capacity - OutboxFormat.dataStart, staging.count)
        guard total <= limit, bag.count <= Int(UInt16.max), UInt64(payload.count) <= UInt64(UInt32.max) else {
            throw .messageTooLarge(size: total, limit: limit)
        }
        var place = placement(total, from: durableTail, live: Int(truncatingIfNeeded: headSequence &- durableSequence))
        if place == nil {
            // An empty ring starts over at the front; space behind the tail is free once a
            // checkpoint says so. Either way the checkpoint goes first.
            if count == 0, head + total > capacity {
                tail = OutboxFormat.dataStart
                head = tail
            }
            if durableSequence != tailSequence || durableTail != tail {
                do throws(StorageError) { try writeCheckpoint() } catch { throw .storage(error) }
                place = placement(total, from: tail, live: count)
            }
        }
        guard let (wrapAt, at) = place else { throw .full(needed: total) }
        let record = UnsafeMutableRawBufferPointer(rebasing: staging[0..<total])
        UnsafeMutableRawBufferPointer(rebasing: record[OutboxFormat.headerBytes..<(OutboxFormat.headerBytes + bag.count)])
            .copyMemory(from: bag)
        UnsafeMutableRawBufferPointer(rebasing: record[(OutboxFormat.headerBytes + bag.count)..<(total - OutboxFormat.checksumBytes)])
            .copyMemory(from: payload)
        Self.seal(record, kind: OutboxFormat.message, sequence: headSequence, bag: bag.count, payload: payload.count)
        do throws(StorageError) {
            if let wrapAt {
                var marker: (UInt64, UInt64, UInt32) = (0, 0, 0)
                try withUnsafeMutableBytes(of: &marker) { (bytes) throws(StorageError) in
                    let wrap = UnsafeMutableRawBufferPointer(rebasing: bytes[0..<OutboxFormat.wrapBytes])
                    Self.seal(wrap, kind: OutboxFormat.wrap, sequence: headSequence, bag: 0, payload: 0)
                    try storage.write(at: wrapAt, UnsafeRawBufferPointer(wrap))
                }
            }
            try storage.write(at: at, UnsafeRawBufferPointer(record))
            if syncs { try storage.sync() }
        } catch {
            throw .storage(error)
        }
        let appended = OutboxRecord(sequence: headSequence, start: at, end: normalized(at + total),
                                    bagLength: bag.count, payloadLength: payload.count)
        head = appended.end
        headSequence &+= 1
        return appended
    }

    /// The oldest live record was acknowledged; the next one starts at `end`. Takes effect on
    /// storage with the next checkpoint.
    mutating func releaseOldest(end: Int) {
        guard count > 0 else { return }
        tail = end
        tailSequence &+= 1
    }

    /// Whether the tail moved since the newest checkpoint.
    var checkpointBehind: Bool { durableSequence != tailSequence }

    /// Writes the tail as the newest checkpoint (into the slot not holding the newest) and syncs.
    mutating func writeCheckpoint() throws(StorageError) {
        let next = OutboxCheckpoint(generation: generation &+ 1, capacity: capacity, tail: tail, sequence: tailSequence)
        var bytes: (UInt64, UInt64, UInt64, UInt64, UInt32) = (0, 0, 0, 0, 0)
        try withUnsafeMutableBytes(of: &bytes) { (raw) throws(StorageError) in
            let slot = UnsafeMutableRawBufferPointer(rebasing: raw[0..<OutboxFormat.checkpointBytes])
            next.encode(into: slot)
            try storage.write(at: (1 - newestSlot) * OutboxFormat.slotSize, UnsafeRawBufferPointer(slot))
        }
        if syncs { try storage.sync() }
        newestSlot = 1 - newestSlot
        generation = next.generation
        durableTail = tail
        durableSequence = tailSequence
    }
}
