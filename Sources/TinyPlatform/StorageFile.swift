import CTinyPlatform

/// Why a read, write or sync of storage failed.
public enum StorageError: Error, Equatable {
    /// The operating system refused (errno attached): no such directory, permission, disk full...
    case io(errno: Int32)
    /// The call reached outside the storage's fixed size (a bug in the caller).
    case outOfRange
    /// Memory for the file's handle could not be allocated.
    case outOfMemory

    /// A one-line description a person can act on.
    public var summary: StaticString {
        switch self {
        case .io: return "storage I/O failed (check the path, its permissions and free space)"
        case .outOfRange: return "storage access outside its size"
        case .outOfMemory: return "out of memory for the storage file"
        }
    }
}

/// A file of fixed size read and written at any offset, for data that must survive a crash
/// (the hub client's outbox). Created if missing and grown with zeros to `size`; never shrunk.
/// `sync` returns once what was written is on the storage device (`fdatasync`).
///
/// All calls go through the C shim (POSIX `pread`/`pwrite`/`fdatasync`); nothing is buffered
/// in user space, so a write that returned has reached the operating system and survives the
/// process being killed, and a `sync` that returned survives power loss.
///
/// ```swift
/// let file = try StorageFile.open(path: "state.bin", size: 1_024)
/// try file.write(at: 0, record)
/// try file.sync()   // durable from here
/// ```
public final class StorageFile {
    private let descriptor: Int32
    /// The usable size in bytes, as asked for at `open`.
    public let size: Int

    private init(descriptor: Int32, size: Int) {
        self.descriptor = descriptor
        self.size = size
    }

    /// Opens or creates the file at `path` (mode 0600) and makes it at least `size` bytes long.
    /// A file created or grown here is synced, a new one's directory too, before this returns:
    /// its name and size survive a power cut.
    ///
    /// - Parameters:
    ///   - path: the file's path.
    ///   - size: the bytes the file must hold.
    /// - Returns: the open file.
    /// - Throws: `StorageError`: `io` with the errno, `outOfMemory`.
    public static func open(path: String, size: Int) throws(StorageError) -> StorageFile {
        guard size >= 0 else { throw .outOfRange }
        guard Heap.canAllocate(64) else { throw .outOfMemory }
        var err: Int32 = 0
        let fd = path.withCString { tp_file_open($0, UInt64(size), &err) }
        guard fd >= 0 else { throw .io(errno: err) }
        return StorageFile(descriptor: fd, size: size)
    }

    deinit { tp_close(descriptor) }

    /// Reads `buffer.count` bytes at `offset`.
    ///
    /// - Parameters:
    ///   - offset: where to read.
    ///   - buffer: filled with `buffer.count` bytes.
    /// - Throws: `StorageError`: `outOfRange` past `size`, `io` with the errno.
    public func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(StorageError) {
        guard offset >= 0, buffer.count <= size - offset else { throw .outOfRange }
        guard buffer.count > 0 else { return }
        var err: Int32 = 0
        guard tp_file_read(descriptor, UInt64(offset), buffer.baseAddress, buffer.count, &err) == 0 else { throw .io(errno: err) }
    }

    /// Writes `bytes` at `offset` (to the operating system; `sync` makes it durable).
    ///
    /// - Parameters:
    ///   - offset: where to write.
    ///   - bytes: what to write.
    /// - Throws: `StorageError`: `outOfRange` past `size`, `io` with the errno.
    public func write(at offset: Int, _ bytes: UnsafeRawBufferPointer) throws(StorageError) {
        guard offset >= 0, bytes.count <= size - offset else { throw .outOfRange }
        guard bytes.count > 0 else { return }
        var err: Int32 = 0
        guard tp_file_write(descriptor, UInt64(offset), bytes.baseAddress, bytes.count, &err) == 0 else { throw .io(errno: err) }
    }

    /// Returns once everything written so far is on the storage device.
    ///
    /// - Throws: `StorageError.io` with the errno.
    public func sync() throws(StorageError) {
        var err: Int32 = 0
        guard tp_file_sync(descriptor, &err) == 0 else { throw .io(errno: err) }
    }
}
