import CTinyPlatform

/// A point on the monotonic clock `timeoutMs` from now.
func tp_deadline(_ timeoutMs: Int32) -> UInt64 { tp_monotonic_ms() + UInt64(max(0, timeoutMs)) }

/// Milliseconds left until `deadline` (0 once it has passed).
func tp_remaining(_ deadline: UInt64) -> Int32 {
    let now = tp_monotonic_ms()
    return now >= deadline ? 0 : Int32(clamping: deadline - now)
}
