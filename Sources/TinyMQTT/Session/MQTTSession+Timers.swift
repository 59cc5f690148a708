import TinyPlatform

// Time-driven work: keep-alive (PINGREQ/PINGRESP) and the deadlines of SUBSCRIBE/UNSUBSCRIBE requests.
extension MQTTSession {
    /// Milliseconds until the next keep-alive or timeout action is due.
    func nextTimerMs(now: UInt64) -> UInt64 {
        var next = UInt64.max
        if let sent = pingSentMs {
            next = min(next, ClockArithmetic.adding(UInt64(configuration.pingTimeoutMs), to: sent))
        } else if let due = keepAliveDueMs {
            next = min(next, due)
        }
        if pendingCount > 0 {
            for i in pending.indices where pending[i].packetID != 0 { next = min(next, pending[i].deadlineMs) }
        }
        return ClockArithmetic.remaining(until: next, from: now)
    }

    /// When a PINGREQ is due (a keep-alive period after the last send, §3.1.2.10), or nil.
    var keepAliveDueMs: UInt64? {
        guard let options, options.keepAliveSeconds > 0 else { return nil }
        return ClockArithmetic.adding(UInt64(options.keepAliveSeconds) * 1000, to: lastSendMs)
    }

    /// Sends PINGREQ when idle for a keep-alive period (§3.1.2.10), detects a missing
    /// PINGRESP and expired requests. Returns why the connection must be dropped, or nil.
    /// (It reports nothing itself: only `poll` and a few paths take the handler, which the
    /// optimizer copies them for.)
    func serviceTimers(now: UInt64) -> MQTTError? {
        if let sent = pingSentMs, now >= ClockArithmetic.adding(UInt64(configuration.pingTimeoutMs), to: sent) {
            return .pingTimeout
        }
        if pingSentMs == nil, let due = keepAliveDueMs, now >= due {
            do {
                try sendControl { (bytes) throws(MQTTCodecError) -> Int in try MQTTEncoder.pingreq(into: bytes) }
            } catch {
                return error
            }
            pingSentMs = now
        }
        guard pendingCount > 0 else { return nil }
        for i in pending.indices where pending[i].packetID != 0 && now >= pending[i].deadlineMs {
            // A broker that leaves a SUBSCRIBE unanswered would leave the application deaf
            // while the connection looks fine: treat it as a dead connection. Reconnecting
            // reports every outstanding request as `.ackTimedOut`.
            return .ackTimeout
        }
        return nil
    }

    func clearPending(_ id: UInt16) -> Bool {
        guard pendingCount > 0 else { return false }
        for i in pending.indices where pending[i].packetID == id {
            pending[i] = PendingAck()
            pendingCount -= 1
            return true
        }
        return false
    }

    /// Whether a SUBSCRIBE/UNSUBSCRIBE with packet id `id` awaits its ack.
    func isPending(_ id: UInt16) -> Bool {
        for i in pending.indices where pending[i].packetID == id { return true }
        return false
    }
}
