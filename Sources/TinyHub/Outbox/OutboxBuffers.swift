/// One message the outbox has handed to the MQTT session and not yet seen acknowledged past.
public struct OutboxInflightEntry {
    var packetID: UInt16 = 0
    var acknowledged = false
    /// Where the record after this one starts.
    var end: UInt32 = 0

    /// An empty entry.
    public init() {}
}

/// The RAM a `TelemetryOutbox` works in, sized and owned by the application.
///
/// - `staging` holds one record while it is written or read back: 20 bytes plus the property
///   bag (at most the hub client's topic buffer) plus the payload.
/// - `inflight` tracks the messages handed to the session, oldest first; acknowledgements out
///   of order wait here until the ones before them are acknowledged too. Messages beyond it
///   wait on storage. Twice the session's in-flight window is plenty.
///
/// ```swift
/// guard let outboxBuffers = OutboxBuffers.allocate(maxMessage: 1_024, window: 8) else { /* out of memory */ }
/// let outbox = try TelemetryOutbox(storage: try StorageFile.open(path: "outbox.bin", size: 65_536), buffers: outboxBuffers)
/// ```
public struct OutboxBuffers {
    /// One record.
    public var staging: UnsafeMutableRawBufferPointer
    /// Messages handed to the session, oldest first.
    public var inflight: UnsafeMutableBufferPointer<OutboxInflightEntry>

    /// Wraps memory the caller already owns.
    ///
    /// - Parameters:
    ///   - staging: where one record is assembled (payload, properties and header).
    ///   - inflight: one entry per message the session may have in flight.
    public init(staging: UnsafeMutableRawBufferPointer, inflight: UnsafeMutableBufferPointer<OutboxInflightEntry>) {
        self.staging = staging
        self.inflight = inflight
    }

    /// Allocates both once, at start-up, for payloads plus properties of up to `maxMessage`
    /// bytes (as in `HubBuffers.allocate`) and a session window of `window` messages; nil when
    /// memory ran out. Release them with `deallocate()` after the outbox is gone.
    ///
    /// - Parameters:
    ///   - maxMessage: the largest payload plus properties, in bytes.
    ///   - window: the session's in-flight window (messages).
    /// - Returns: the buffers, or nil when memory ran out.
    public static func allocate(maxMessage: Int = 1_024, window: Int = 8) -> OutboxBuffers? {
        let staging = UnsafeMutableRawBufferPointer.allocate(byteCount: maxMessage + 512 + OutboxFormat.wrapBytes, alignment: 8)
        let inflight = UnsafeMutableBufferPointer<OutboxInflightEntry>.allocate(capacity: max(1, 2 * window))
        let buffers = OutboxBuffers(staging: staging, inflight: inflight)
        guard staging.baseAddress != nil, inflight.baseAddress != nil else {
            buffers.deallocate()
            return nil
        }
        inflight.initialize(repeating: OutboxInflightEntry())
        return buffers
    }

    /// Frees buffers made by `allocate`.
    public func deallocate() {
        staging.deallocate()
        inflight.deallocate()
    }
}

/// How a `TelemetryOutbox` uses its storage.
///
/// ```swift
/// var options = OutboxOptions()
/// options.sync = false   // battery-backed RAM: nothing to flush
/// let outbox = try TelemetryOutbox(storage: OutboxMemoryStorage(region: retained), buffers: outboxBuffers, options: options)
/// ```
public struct OutboxOptions {
    /// Sync after every record (before its PUBLISH goes out) and after every checkpoint
    /// (default true). Off, a record is only written to the storage (for a file: handed to the
    /// operating system, which survives the process being killed but not power loss or a kernel
    /// crash); each message then costs no device write of its own.
    public var sync = true

    /// The defaults above.
    public init() {}
}
