/// The outbox's bytes on storage (all integers little-endian). docs/reliability.md describes it.
///
/// ```
/// 0    checkpoint slot A (64 bytes)   } the newer valid one says where the oldest unacknowledged
/// 64   checkpoint slot B (64 bytes)   } record is; written alternately, so a torn write leaves the other
/// 128  records, a ring up to `capacity`
/// ```
/// Checkpoint: "TBOX", version 1, 3 zero bytes, generation (u64), capacity (u32), tail offset
/// (u32), tail sequence (u64), CRC-32 of the 32 bytes before it.
///
/// Record: kind (`M` message, `W` wrap: continue at 128), 1 zero byte, property-bag length (u16),
/// payload length (u32), sequence (u64), the bag, the payload, CRC-32 of everything before it.
/// A record never straddles the end: when it does not fit, a `W` record (20 bytes) goes where it
/// would have started, or, with fewer than 20 bytes left, the reader wraps by itself. Sequences
/// count up by one per message, so a record left from an earlier lap of the ring never passes
/// for the one expected at its place.
enum OutboxFormat {
    static let slotSize = 64
    static let checkpointBytes = 36
    static let dataStart = 2 * slotSize
    static let headerBytes = 16
    static let checksumBytes = 4
    /// A wrap record; also the least room a record start needs before the end.
    static let wrapBytes = headerBytes + checksumBytes
    static let message: UInt8 = 0x4D
    static let wrap: UInt8 = 0x57
    static let version: UInt8 = 1
    /// "TBOX".
    static let magic: UInt32 = 0x584F_4254

    /// Bytes a message record takes.
    static func recordBytes(bag: Int, payload: Int) -> Int { headerBytes + bag + payload + checksumBytes }
}

/// Little-endian fields in raw bytes.
extension UnsafeMutableRawBufferPointer {
    func storeLE(_ value: UInt64, at offset: Int, bytes: Int) {
        for i in 0..<bytes { self[offset + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * i)) }
    }
}

extension UnsafeRawBufferPointer {
    func loadLE(at offset: Int, bytes: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<bytes { value |= UInt64(self[offset + i]) << UInt64(8 * i) }
        return value
    }
}

/// One checkpoint: the oldest record not yet acknowledged.
struct OutboxCheckpoint {
    var generation: UInt64
    var capacity: Int
    var tail: Int
    var sequence: UInt64

    /// Writes the 36 checkpoint bytes.
    func encode(into bytes: UnsafeMutableRawBufferPointer) {
        bytes.storeLE(UInt64(OutboxFormat.magic), at: 0, bytes: 4)
        bytes[4] = OutboxFormat.version
        bytes[5] = 0; bytes[6] = 0; bytes[7] = 0
        bytes.storeLE(generation, at: 8, bytes: 8)
        bytes.storeLE(UInt64(capacity), at: 16, bytes: 4)
        bytes.storeLE(UInt64(tail), at: 20, bytes: 4)
        bytes.storeLE(sequence, at: 24, bytes: 8)
        bytes.storeLE(UInt64(CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<32]))), at: 32, bytes: 4)
    }

    /// The checkpoint in `bytes` (36 of them), or nil when they are not one (torn, never written).
    /// Generation and sequence may be any value: the log counts on from them modulo 2^64.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> OutboxCheckpoint? {
        guard bytes.loadLE(at: 0, bytes: 4) == UInt64(OutboxFormat.magic), bytes[4] == OutboxFormat.version,
              bytes[5] == 0, bytes[6] == 0, bytes[7] == 0,
              bytes.loadLE(at: 32, bytes: 4) == UInt64(CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<32])))
        else { return nil }
        // Clamped: on a 32-bit device a stored u32 may exceed Int (it then matches no capacity or position).
        return OutboxCheckpoint(generation: bytes.loadLE(at: 8, bytes: 8), capacity: Int(clamping: bytes.loadLE(at: 16, bytes: 4)),
                                tail: Int(clamping: bytes.loadLE(at: 20, bytes: 4)), sequence: bytes.loadLE(at: 24, bytes: 8))
    }
}
