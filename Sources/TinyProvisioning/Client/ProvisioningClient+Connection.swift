import TinyMQTT
import TinyPlatform

// Connections to DPS: attempts within the budget, the backoff between them, and the one clock
// check after an authentication refusal.
extension ProvisioningClient {
    /// Connects (again, as needed) and runs the exchange until DPS assigns the device or a
    /// failure is final.
    func connectAndRegister(_ registration: PreparedRegistration, deadline: UInt64) throws(ProvisioningError) {
        var prepared = registration
        exchange.bodyLength = prepared.bodyLength
        var clockChecked = false
        // A wall clock that was never set cannot sign a token DPS accepts: ask DPS first.
        if prepared.usesToken, let clockCheck, WallClockTrust.isUnknown(platform.wallSeconds()) {
            clockChecked = true
            if let now = clockCheck(prepared.idScope, prepared.registrationID) { clockOffsetSeconds = now - platform.wallSeconds() }
        }
        try mintToken(&prepared)
        var failures: UInt32 = 0
        while true {
            guard platform.monotonicMs() < deadline else { throw .timedOut }
            do throws(MQTTError) {
                try connect(prepared, deadline: deadline)
            } catch {
                guard case .connectionRefused(let code) = error, code == .notAuthorized || code == .badUsernameOrPassword else {
                    if case .connectionRefused(let code) = error, code.isPermanent { throw .connectionRefused(code) }
                    try giveUpOrWait(after: error, failures: &failures, deadline: deadline)
                    continue
                }
                guard prepared.usesToken, let clockCheck, !clockChecked else { throw .notAuthorized(code) }
                clockChecked = true
                guard let dpsTime = clockCheck(prepared.idScope, prepared.registrationID) else { throw .clockUnchecked(code) }
                clockOffsetSeconds = dpsTime - platform.wallSeconds()
                try mintToken(&prepared)
                continue // at once: the refusal was not a network failure
            }
            if try converse(deadline: deadline) { return }
            try giveUpOrWait(after: exchange.lost ?? .notConnected, failures: &failures, deadline: deadline)
        }
    }

    /// One connection attempt, bounded by what is left of the registration's deadline.
    private func connect(_ prepared: PreparedRegistration, deadline: UInt64) throws(MQTTError) {
        exchange.newConnection()
        session.discardInflight() // requests of an earlier connection are sent afresh
        let left = ClockArithmetic.remaining(until: deadline, from: platform.monotonicMs())
        session.configuration.connectTimeoutMs = UInt32(min(UInt64(options.session.connectTimeoutMs), max(left, 1)))
        connectionAttempts += 1
        try session.connect(connectOptions(prepared))
    }

    /// After a transient failure: throws when the failure cannot be retried or the attempts
    /// are spent, else waits the backoff (never past the deadline).
    private func giveUpOrWait(after error: MQTTError, failures: inout UInt32, deadline: UInt64) throws(ProvisioningError) {
        if ProvisioningError.isPermanent(error) { throw .connectionFailed(error) }
        guard connectionAttempts < max(options.connectAttempts, 1) else { throw .connectionFailed(error) }
        failures += 1
        let delay = UInt64(session.configuration.backoff.delay(attempt: failures, random: platform.random32()))
        let now = platform.monotonicMs()
        let left = ClockArithmetic.remaining(until: deadline, from: now)
        // A wait that would end past the deadline leaves no attempt: the failure is the answer.
        guard delay < left else { throw .connectionFailed(error) }
        platform.sleep(ms: UInt32(clamping: delay))
    }
}
