import TinyPlatform

/// When a device clock is too early to be believed.
public enum HubClockCheckPolicy {
    /// A device clock earlier than this (`WallClockTrust.earliestPlausibleTime`, 2026-12-01,
    /// before this release was built) has never been set, so tokens are minted from the
    /// hub's time from the start.
    public static let earliestPlausibleTime: Int64 = WallClockTrust.earliestPlausibleTime
}
