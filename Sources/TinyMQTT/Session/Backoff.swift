/// Exponential backoff with jitter in the upper half: the delay before retry n is uniform
/// in [d/2, d], with d = min(cap, base x 2^(n-1)).
///
/// The jitter keeps a fleet that lost the same hub from reconnecting in lock-step (every
/// retry, the first one included, is randomised), and the lower bound of d/2 keeps the
/// rate of attempts of a single device bounded even with unlucky random values.
public struct Backoff: Sendable {
    /// d for the first retry (default 1 s).
    public var baseMs: UInt32
    /// Largest d (default 60 s).
    public var capMs: UInt32

    /// A policy growing from `baseMs` up to `capMs` (the cap is raised to the base if lower).
    ///
    /// - Parameters:
    ///   - baseMs: the upper end of the first retry's delay.
    ///   - capMs: the largest upper end of any delay.
    public init(baseMs: UInt32 = 1_000, capMs: UInt32 = 60_000) {
        self.baseMs = baseMs
        self.capMs = max(baseMs, capMs)
    }

    /// d for retry `attempt` (1-based; 0 is treated as 1): `min(cap, base x 2^(attempt-1))`.
    ///
    /// - Parameter attempt: which retry, counting from 1.
    /// - Returns: the upper end of that retry's delay in milliseconds.
    public func ceiling(attempt: UInt32) -> UInt32 {
        let shift = min(attempt > 0 ? attempt - 1 : 0, 32)
        let grown = UInt64(baseMs) << UInt64(shift)
        return UInt32(min(grown, UInt64(capMs)))
    }

    /// The delay before retry `attempt`, given a uniformly random 32-bit value.
    ///
    /// - Parameters:
    ///   - attempt: which retry, counting from 1.
    ///   - random: a uniformly random value (the platform's `random32()`).
    /// - Returns: a delay in [d/2, d] milliseconds.
    public func delay(attempt: UInt32, random: UInt32) -> UInt32 {
        let top = ceiling(attempt: attempt)
        let bottom = top - top / 2
        let span = UInt64(top - bottom) + 1
        return bottom + UInt32(UInt64(random) % span)
    }
}
