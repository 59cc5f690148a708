/// Arithmetic on monotonic-clock milliseconds that never traps.
///
/// A clock value read a moment ago can be later than one read now (a tick between two
/// reads, a clock that is stepped), and a deadline far in the future can overflow. A
/// trap on a device is a reboot, so every sum saturates at `UInt64.max` and every
/// difference at zero.
package enum ClockArithmetic {
    /// `time + milliseconds`, or `UInt64.max` when that overflows.
    @inline(__always)
    package static func adding(_ milliseconds: UInt64, to time: UInt64) -> UInt64 {
        let (sum, overflow) = time.addingReportingOverflow(milliseconds)
        return overflow ? .max : sum
    }

    /// Milliseconds from `now` until `deadline`, zero when it has passed.
    @inline(__always)
    package static func remaining(until deadline: UInt64, from now: UInt64) -> UInt64 {
        deadline > now ? deadline - now : 0
    }

    /// Milliseconds from `start` until `now`, zero when `now` is earlier.
    @inline(__always)
    package static func elapsed(since start: UInt64, now: UInt64) -> UInt64 {
        now > start ? now - start : 0
    }
}
