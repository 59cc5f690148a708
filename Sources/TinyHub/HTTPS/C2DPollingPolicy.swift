/// How often an HTTPS `HubClient` may ask IoT Hub for cloud-to-device messages.
///
/// IoT Hub asks HTTPS devices to poll no more often than every 25 minutes in production
/// (Microsoft's IoT Hub HTTPS guidance; azure-iot-sdk-c's `MinimumPollingTime` is 1500 s). The default and the production minimum are therefore
/// 1500 s. Faster polling exists only as the explicitly named development mode, which
/// the client announces once through its log hook.
///
/// A poll is a *cycle*: its first GET is spaced at least `intervalSeconds` from the
/// previous cycle's first GET; within a cycle the client keeps fetching while messages
/// are waiting (each 200 answer), up to `maxMessagesPerCycle`.
public struct C2DPollingPolicy: Sendable {
    /// The production minimum (and default) interval between poll cycles: 25 minutes.
    public static let minimumIntervalSeconds: UInt32 = 1_500
    /// The default: one cycle every 25 minutes, up to 50 messages per cycle.
    public static let `default` = C2DPollingPolicy(intervalSeconds: minimumIntervalSeconds, development: false)

    /// Seconds between the starts of two poll cycles.
    public let intervalSeconds: UInt32
    /// Whether this is the development mode (an interval below the production minimum).
    public let isDevelopment: Bool
    /// Most messages fetched in one cycle (1...50; default 50).
    public var maxMessagesPerCycle: UInt16 = 50 {
        didSet { maxMessagesPerCycle = min(max(maxMessagesPerCycle, 1), 50) }
    }

    private init(intervalSeconds: UInt32, development: Bool) {
        self.intervalSeconds = intervalSeconds
        self.isDevelopment = development
    }

    /// A production policy: `intervalSeconds` is raised to 1500 if lower.
    ///
    /// - Parameter intervalSeconds: the time between poll cycles' starts; raised to 1500 s if lower.
    public static func production(intervalSeconds: UInt32) -> C2DPollingPolicy {
        C2DPollingPolicy(intervalSeconds: max(intervalSeconds, minimumIntervalSeconds), development: false)
    }

    /// Development mode: polls every `intervalSeconds` (at least 1 s), below the 25-minute
    /// rule. Continuous polling is what gets devices throttled (403004/429); never ship it.
    ///
    /// - Parameter intervalSeconds: the time between poll cycles' starts, at least 1 s.
    public static func development(intervalSeconds: UInt32) -> C2DPollingPolicy {
        C2DPollingPolicy(intervalSeconds: max(intervalSeconds, 1), development: true)
    }

    /// The interval in milliseconds.
    var intervalMs: UInt64 { UInt64(intervalSeconds) * 1_000 }
}

/// The state of C2D polling: when the current cycle started, how many messages it took,
/// and when the next cycle may start. Times are monotonic milliseconds.
struct C2DPollSchedule {
    var policy: C2DPollingPolicy
    /// Whether a cycle is open (its last GET returned a message).
    var cycleOpen = false
    var cycleMessages: UInt16 = 0
    /// Earliest start of the next cycle; 0 = the first poll may happen at once.
    var nextCycleAtMs: UInt64 = 0
    /// Number of cycles started (diagnostics and tests).
    var cyclesStarted = 0

    init(policy: C2DPollingPolicy) { self.policy = policy }

    /// Milliseconds until a GET is allowed (0 = now).
    func waitMs(now: UInt64) -> UInt64 {
        if cycleOpen, cycleMessages < policy.maxMessagesPerCycle { return 0 }
        return nextCycleAtMs > now ? nextCycleAtMs - now : 0
    }

    /// Claims a GET at `now`: continues the open cycle or starts a new one. Throws when neither is allowed.
    mutating func beginGet(now: UInt64) throws(HubError) {
        if now >= nextCycleAtMs {
            // Due: a new cycle (also when a drained cycle is still open from long ago).
            cycleOpen = true
            cycleMessages = 0
            cyclesStarted += 1
            nextCycleAtMs = now + policy.intervalMs
            return
        }
        guard cycleOpen, cycleMessages < policy.maxMessagesPerCycle else {
            cycleOpen = false
            throw .pollTooSoon(remainingMs: nextCycleAtMs - now)
        }
    }

    /// The GET returned a message: the cycle stays open for the next one.
    mutating func gotMessage() { cycleMessages += 1 }

    /// The queue is empty, or the GET failed: the cycle ends.
    mutating func endCycle() { cycleOpen = false }

    /// A 429/503: no new cycle before `retryAfterMs` from now (nor before the interval).
    mutating func backOff(now: UInt64, retryAfterMs: UInt64) {
        cycleOpen = false
        nextCycleAtMs = max(nextCycleAtMs, now + retryAfterMs)
    }
}
