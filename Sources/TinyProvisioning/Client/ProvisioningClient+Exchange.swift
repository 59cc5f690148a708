import TinyBytes
import TinyHub
import TinyMQTT
import TinyPlatform

// One connection's conversation with DPS: subscribe, send the register request (or the
// operation-status query), read the answers, wait out retry-after.
extension ProvisioningClient {
    /// Runs the exchange on the open connection. Returns true once DPS assigned the device,
    /// false when the connection was lost (`exchange.lost`); throws a final failure or
    /// `timedOut` at the deadline.
    func converse(deadline: UInt64) throws(ProvisioningError) -> Bool {
        var filter = MQTTSubscription(filter: Bytes.view(ProvisioningTopics.responseFilter), qos: .atLeastOnce)
        do throws(MQTTError) {
            exchange.subscriptionID = try withUnsafePointer(to: &filter) { (pointer) throws(MQTTError) -> UInt16 in
                try session.subscribe(UnsafeBufferPointer(start: pointer, count: 1))
            }
        } catch {
            exchange.lost = error
            return false
        }
        while true {
            if exchange.assigned { return true }
            if let failure = exchange.failure { throw failure }
            if exchange.lost != nil { return false }
            let now = platform.monotonicMs()
            guard now < deadline else { throw .timedOut }
            var wait = ClockArithmetic.remaining(until: deadline, from: now)
            if exchange.subscribed, let due = exchange.nextRequestAtMs {
                guard now >= due else {
                    wait = min(wait, ClockArithmetic.remaining(until: due, from: now))
                    poll(wait)
                    continue
                }
                try sendRequest()
                continue
            }
            poll(wait)
        }
    }

    /// Polls the session for up to `ms` (it returns early on an event).
    private func poll(_ ms: UInt64) {
        do throws(MQTTError) {
            // As in `MQTTFace.poll`: no retain and release of `self` on every path of the session's poll.
            let client = Unmanaged.passUnretained(self)
            try session.poll(timeoutMs: UInt32(clamping: max(ms, 1))) { event in client._withUnsafeGuaranteedRef { $0.handle(event) } }
        } catch {
            if exchange.lost == nil { exchange.lost = error }
        }
    }

    /// Publishes the next request with a new `$rid`: the operation-status query once DPS named
    /// the operation, the register request before.
    private func sendRequest() throws(ProvisioningError) {
        exchange.requestID = exchange.requestID == UInt32.max ? 1 : exchange.requestID + 1
        let topicLength: Int
        let payload: UnsafeRawBufferPointer
        do throws(ProvisioningProtocolError) {
            if exchange.operationIDLength > 0 {
                topicLength = try ProvisioningTopics.writeOperationStatus(
                    requestID: exchange.requestID,
                    operationID: UnsafeRawBufferPointer(rebasing: storage.operationID[0..<exchange.operationIDLength]),
                    into: storage.topic)
                payload = UnsafeRawBufferPointer(start: nil, count: 0)
            } else {
                topicLength = try ProvisioningTopics.writeRegister(requestID: exchange.requestID, into: storage.topic)
                payload = UnsafeRawBufferPointer(rebasing: storage.body[0..<exchange.bodyLength])
            }
        } catch {
            throw .protocolError(error)
        }
        // Only the newest request matters: an older one still awaiting its PUBACK is forgotten.
        session.discardInflight()
        exchange.nextRequestAtMs = nil
        exchange.awaitingAnswer = true
        do throws(MQTTError) {
            try session.publish(topic: UnsafeRawBufferPointer(rebasing: storage.topic[0..<topicLength]), payload: payload,
                                qos: .atLeastOnce)
        } catch {
            if case .encoding = error { throw .connectionFailed(error) }
            exchange.lost = error
        }
    }

    /// Turns one MQTT event into exchange state (never calls into the session).
    private func handle(_ event: MQTTEvent) {
        switch event {
        case .subscribed(let id, let codes):
            guard id == exchange.subscriptionID, !exchange.subscribed else { return }
            for code in codes where code == 0x80 {
                exchange.failure = .subscriptionRefused
                return
            }
            exchange.subscribed = true
            if !exchange.awaitingAnswer, exchange.nextRequestAtMs == nil { exchange.nextRequestAtMs = platform.monotonicMs() }
        case .message(let message):
            answer(topic: message.topic, body: message.payload)
        case .connectionLost(let error):
            if exchange.lost == nil { exchange.lost = error }
        case .connected, .delivered, .unsubscribed, .ackTimedOut, .oversizedPacketDropped, .reconnectScheduled:
            break
        }
    }
}
