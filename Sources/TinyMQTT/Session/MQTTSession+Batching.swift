import TinyPlatform

// Batched QoS 1 publishes (`MQTTSessionConfiguration.batchesPublishes`): writing the queued ones.
extension MQTTSession {
    /// Writes every queued QoS 1 PUBLISH, oldest first, with one transport send per run of them
    /// that lies contiguous in the in-flight arena (one, unless the arena wrapped). On failure
    /// the connection is dropped and the loss kept for the next `poll` (`sendOrLose`); the
    /// packets stay in the window for the next connection.
    ///
    /// - Throws: `MQTTError.transport` when a send failed.
    func flushDeferredPublishes() throws(MQTTError) {
        hasDeferredPublishes = false
        var next = inflight.oldestSlot
        while let slot = next {
            guard !inflight.isSent(slot) else {
                next = inflight.slot(after: slot)
                continue
            }
            let run = inflight.unsentRun(from: slot)
            try sendOrLose(run.bytes)
            next = run.next
        }
    }
}
