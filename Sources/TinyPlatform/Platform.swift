import CTinyPlatform

/// Time, randomness and sleep as the session and the hub client see them. Injected so
/// tests can drive a fake clock deterministically; `SystemPlatform` is the real one.
///
/// ```swift
/// /// A clock a test moves by hand.
/// final class ManualClock: Platform {
///     var now: UInt64 = 0
///     func monotonicMs() -> UInt64 { now }
///     func wallSeconds() -> Int64 { 1_700_000_000 + Int64(now / 1_000) }
///     func random32() -> UInt32 { 4 }
///     func sleep(ms: UInt32) { now += UInt64(ms) }
/// }
/// ```
public protocol Platform: AnyObject {
    /// Milliseconds from a monotonic clock (never goes backwards).
    func monotonicMs() -> UInt64
    /// Wall-clock seconds since the Unix epoch (UTC); SAS expiry is computed from it.
    func wallSeconds() -> Int64
    /// A uniformly random 32-bit value (used for backoff jitter and request ids).
    func random32() -> UInt32
    /// Blocks for `ms` milliseconds (used while waiting out a reconnect backoff).
    ///
    /// - Parameter ms: how long to block, in milliseconds.
    func sleep(ms: UInt32)
}

/// The real clock (`CLOCK_MONOTONIC`, `CLOCK_REALTIME`), `getrandom()` and `poll()`-based sleep.
///
/// ```swift
/// let platform = SystemPlatform()
/// let session = MQTTSession(transport: transport, platform: platform, buffers: buffers)
/// let expiry = platform.wallSeconds() + 3_600
/// ```
public final class SystemPlatform: Platform {
    /// Creates the system platform. It holds no state.
    public init() {}

    /// Milliseconds from `CLOCK_MONOTONIC`.
    public func monotonicMs() -> UInt64 { tp_monotonic_ms() }

    /// Seconds since the Unix epoch from `CLOCK_REALTIME`.
    public func wallSeconds() -> Int64 { tp_wall_seconds() }

    /// A random value from `getrandom()`.
    public func random32() -> UInt32 {
        var value: UInt32 = 0
        _ = withUnsafeMutableBytes(of: &value) { tp_random($0.baseAddress, 4) }
        return value
    }

    /// Sleeps `ms` milliseconds with `poll()`.
    ///
    /// - Parameter ms: How long to sleep, in milliseconds.
    public func sleep(ms: UInt32) { tp_sleep_ms(ms) }
}
