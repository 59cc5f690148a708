/// When a device clock is too early to be believed.
public enum HubClockCheckPolicy {
    /// 2026-12-01T00:00:00Z, before this release of TinyHub was built: a device clock earlier
    /// than this has never been set (a board without a battery-backed clock starts at 1970
    /// or at its image's date), so tokens are minted from the hub's time from the start.
    public static let earliestPlausibleTime: Int64 = 1_796_083_200
}
