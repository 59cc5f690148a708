/// Exponential backoff with full jitter: attempt n waits a uniformly random time in
/// [min, min(max, min * 2^(n-1))]. Random jitter keeps a fleet of devices that lost the
/// same broker from reconnecting in lock-step.
public struct Backoff {
    /// Lower bound of every delay.
    public var minMs: UInt32
    /// Upper bound of every delay.
    public var maxMs: UInt32

    /// A policy between `minMs` and `maxMs` (max is raised to min if lower).
    public init(minMs: UInt32, maxMs: UInt32) {
        self.minMs = minMs
        self.maxMs = max(minMs, maxMs)
    }

    /// Upper bound of the delay for attempt `attempt` (1-based), before jitter.
    public func ceiling(attempt: UInt32) -> UInt32 {
        let shift = min(attempt > 0 ? attempt - 1 : 0, 31)
        let grown = UInt64(minMs) << UInt64(shift)
        return UInt32(min(grown, UInt64(maxMs)))
    }

    /// The delay for attempt `attempt` given a uniformly random 32-bit value.
    public func delay(attempt: UInt32, random: UInt32) -> UInt32 {
        let top = ceiling(attempt: attempt)
        let span = UInt64(top - minMs) + 1
        return minMs + UInt32(UInt64(random) % span)
    }
}
