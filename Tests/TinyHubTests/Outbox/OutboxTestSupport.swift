import Foundation
@testable import TinyHub
import TinyPlatform

/// Storage over a byte array the test can inspect and damage, with a power cut after a budget
/// of written bytes: the write that crosses it stores only the bytes before the cut, and it and
/// every later write or sync fail (the device lost power).
final class TestStorage: OutboxStorage {
    var bytes: [UInt8]
    /// Bytes that may still be written before the power cut (nil: no cut).
    var budget: Int? = nil
    private(set) var syncs = 0
    private(set) var writes = 0

    init(capacity: Int, fill: UInt8 = 0) { bytes = [UInt8](repeating: fill, count: capacity) }
    init(copying other: TestStorage) { bytes = other.bytes }

    var capacity: Int { bytes.count }

    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(StorageError) {
        guard offset >= 0, offset + buffer.count <= bytes.count else { throw .outOfRange }
        for i in 0..<buffer.count { buffer[i] = bytes[offset + i] }
    }

    func write(at offset: Int, _ data: UnsafeRawBufferPointer) throws(StorageError) {
        guard offset >= 0, offset + data.count <= bytes.count else { throw .outOfRange }
        writes += 1
        let allowed = min(data.count, budget ?? data.count)
        for i in 0..<allowed { bytes[offset + i] = data[i] }
        if let left = budget {
            budget = left - allowed
            if allowed < data.count { throw .io(errno: 5) }
        }
    }

    func sync() throws(StorageError) {
        if budget == 0 { throw .io(errno: 5) }
        syncs += 1
    }
}

/// One message as the test wrote it.
struct StoredMessage: Equatable, CustomStringConvertible {
    var bag: [UInt8]
    var payload: [UInt8]
    /// Bytes of its record by the documented format: 16-byte header, bag, payload, CRC-32.
    var recordBytes: Int { 16 + bag.count + payload.count + 4 }
    var description: String { "(\(String(decoding: bag, as: UTF8.self)) | \(payload.count) B)" }

    static func text(_ bag: String, _ payload: String) -> StoredMessage { StoredMessage(bag: Array(bag.utf8), payload: Array(payload.utf8)) }
}

/// A staging buffer freed at the end of the test.
final class Staging {
    let buffer: UnsafeMutableRawBufferPointer
    init(_ bytes: Int = 4_096) { buffer = .allocate(byteCount: bytes, alignment: 8) }
    deinit { buffer.deallocate() }
}

extension OutboxLog {
    /// Appends `message` (bytes copied from the test's arrays).
    @discardableResult
    mutating func append(_ message: StoredMessage, staging: Staging) throws(OutboxError) -> OutboxRecord {
        let bag = UnsafeMutableRawBufferPointer.allocate(byteCount: message.bag.count, alignment: 1)
        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: message.payload.count, alignment: 1)
        defer { bag.deallocate(); payload.deallocate() }
        bag.copyBytes(from: message.bag)
        payload.copyBytes(from: message.payload)
        return try append(bag: UnsafeRawBufferPointer(bag), payload: UnsafeRawBufferPointer(payload), staging: staging.buffer)
    }

    /// The live records from the tail, read back through the chain, with where each ends.
    func contents(staging: Staging) throws -> [(message: StoredMessage, end: Int)] {
        var result: [(StoredMessage, Int)] = []
        var position = tail
        var sequence = tailSequence
        while sequence != headSequence {
            guard case .record(let record) = try read(at: position, sequence: sequence, into: staging.buffer) else {
                throw OutboxTestFailure("record \(sequence) at \(position) does not read back")
            }
            let bag = Array(UnsafeRawBufferPointer(rebasing: staging.buffer[16..<(16 + record.bagLength)]))
            let payload = Array(UnsafeRawBufferPointer(rebasing: staging.buffer[(16 + record.bagLength)..<(16 + record.bagLength + record.payloadLength)]))
            result.append((StoredMessage(bag: bag, payload: payload), record.end))
            position = record.end
            sequence &+= 1
        }
        return result
    }
}

struct OutboxTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// CRC-32 (IEEE, reflected), bit by bit: the test's own oracle, independent of the outbox's table.
func referenceCRC32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

/// Little-endian integer of `count` bytes at `offset`.
func littleEndian(_ bytes: [UInt8], _ offset: Int, _ count: Int) -> UInt64 {
    (0..<count).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << UInt64(8 * $1) }
}

/// Opens a log over `storage` (syncing) with `staging`.
func openLog(_ storage: TestStorage, _ staging: Staging) throws -> OutboxLog<TestStorage> {
    try OutboxLog(storage: storage, staging: staging.buffer, syncs: true)
}
