import TinyPlatform

/// Errors of a `TelemetryOutbox`. `full` is back-pressure (poll, then send again); the others
/// mean the outbox or its storage cannot go on as configured.
public enum OutboxError: Error {
    /// No room for the message until acknowledgements free some: poll, then send it again.
    /// Nothing stored was dropped.
    case full(needed: Int)
    /// A message larger than the outbox can ever take: its record (`size` bytes) exceeds the store
    /// or the staging buffer, or its PUBLISH exceeds the session's in-flight arena (`limit`).
    case messageTooLarge(size: Int, limit: Int)
    /// The storage is smaller than the outbox needs or larger than it can address (`capacity`).
    case invalidCapacity(Int)
    /// The storage was formatted for another capacity (`stored`); use that size or a fresh store.
    case capacityMismatch(stored: Int, configured: Int)
    /// Reading, writing or syncing the storage failed.
    case storage(StorageError)
    /// A record the outbox wrote and checked no longer reads back intact: the storage changed
    /// underneath it.
    case corrupted
    /// The hub client refused the message or could not go on.
    case hub(HubError)

    /// A one-line description a person can act on.
    public var summary: StaticString {
        switch self {
        case .full: return "outbox full: poll for acknowledgements, then send again"
        case .messageTooLarge: return "message larger than the outbox can hold"
        case .invalidCapacity: return "outbox storage too small (at least 256 bytes) or larger than 4 GB"
        case .capacityMismatch: return "outbox storage was formatted for another size: use that size or a new store"
        case .storage(let error): return error.summary
        case .corrupted: return "an outbox record no longer reads back intact: the storage changed underneath"
        case .hub(let error): return error.summary
        }
    }
}
