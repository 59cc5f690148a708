import CTinyPlatform

/// Whether the device's wall clock can be believed at all.
///
/// A board without a battery-backed clock starts at 1970 (or at its image's build date)
/// until NTP or the application sets the time. A wall clock earlier than this release of
/// TinyHub was built has certainly not been set: TLS then tolerates a server certificate
/// that is "not yet valid" (and nothing else), and the hub client mints SAS tokens from the
/// hub's time instead of its own.
///
/// ```swift
/// if WallClockTrust.systemClockIsUnknown {
///     // no real-time clock yet: take the service's time before minting a token
/// }
/// ```
public enum WallClockTrust {
    /// 2026-12-01T00:00:00Z, before this release was built.
    public static let earliestPlausibleTime: Int64 = 1_796_083_200

    /// Whether `unixSeconds` is too early to be a set clock.
    ///
    /// - Parameter unixSeconds: a wall-clock reading.
    /// - Returns: true when the clock cannot have been set.
    public static func isUnknown(_ unixSeconds: Int64) -> Bool { unixSeconds < earliestPlausibleTime }

    /// Whether the system's wall clock (`CLOCK_REALTIME`) is unknown by that rule.
    public static var systemClockIsUnknown: Bool { isUnknown(tp_wall_seconds()) }
}
