import TinyPlatform

/// Where a `TelemetryOutbox` keeps its records: a fixed number of bytes the application
/// provides, read and written at any offset, with a `sync` that returns once what was written
/// is durable. A file (`StorageFile`), a flash partition or battery-backed RAM
/// (`OutboxMemoryStorage` over the region) all fit.
///
/// The outbox writes each record once, at a position it chooses, and never rewrites a record
/// it still needs; it relies on `sync` for ordering: what was written before a `sync` that
/// returned is on the device before anything written after it.
///
/// ```swift
/// let file = try StorageFile.open(path: "/data/outbox.bin", size: 65_536)   // a file is outbox storage
/// let outbox = try TelemetryOutbox(storage: file, buffers: outboxBuffers)
/// ```
public protocol OutboxStorage {
    /// The number of bytes the outbox may use, offsets `0..<capacity`; the same on every start.
    var capacity: Int { get }
    /// Reads `buffer.count` bytes at `offset` (never past `capacity`).
    ///
    /// - Parameters:
    ///   - offset: where to read.
    ///   - buffer: filled with `buffer.count` bytes.
    /// - Throws: `StorageError` when the storage cannot be read.
    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(StorageError)
    /// Writes `bytes` at `offset` (never past `capacity`).
    ///
    /// - Parameters:
    ///   - offset: where to write.
    ///   - bytes: what to write.
    /// - Throws: `StorageError` when the storage cannot be written.
    func write(at offset: Int, _ bytes: UnsafeRawBufferPointer) throws(StorageError)
    /// Returns once everything written so far is durable (survives power loss).
    ///
    /// - Throws: `StorageError` when the storage cannot make the writes durable.
    func sync() throws(StorageError)
}

/// A file as outbox storage: `capacity` is the size it was opened with.
extension StorageFile: OutboxStorage {
    /// The size the file was opened with.
    public var capacity: Int { size }
}

/// Outbox storage in a byte region the application owns: battery-backed or retained RAM, a
/// memory-mapped device, or a test's buffer. Writes are plain copies and `sync` does nothing:
/// the region is as durable as the memory behind it.
public struct OutboxMemoryStorage: OutboxStorage {
    /// The region.
    public let region: UnsafeMutableRawBufferPointer

    /// Storage in `region` (its content is what the outbox recovers from).
    ///
    /// - Parameter region: the bytes the outbox may use (all of them: `capacity` is its count).
    public init(region: UnsafeMutableRawBufferPointer) { self.region = region }

    /// The region's size.
    public var capacity: Int { region.count }

    /// Copies out of the region.
    ///
    /// - Parameters:
    ///   - offset: where to read, from the region's start.
    ///   - buffer: filled with `buffer.count` bytes.
    /// - Throws: `StorageError.outOfRange` past the region.
    public func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(StorageError) {
        guard offset >= 0, buffer.count <= region.count - offset else { throw .outOfRange }
        buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: region[offset..<(offset + buffer.count)]))
    }

    /// Copies into the region.
    ///
    /// - Parameters:
    ///   - offset: where to write, from the region's start.
    ///   - bytes: what to write.
    /// - Throws: `StorageError.outOfRange` past the region.
    public func write(at offset: Int, _ bytes: UnsafeRawBufferPointer) throws(StorageError) {
        guard offset >= 0, bytes.count <= region.count - offset else { throw .outOfRange }
        UnsafeMutableRawBufferPointer(rebasing: region[offset..<(offset + bytes.count)]).copyMemory(from: bytes)
    }

    /// Nothing to do: a plain copy is as durable as the region.
    ///
    /// - Throws: never (a plain copy cannot fail).
    public func sync() throws(StorageError) {}
}
