import TinyHTTP
import TinyPlatform

/// What one `pollCloudToDevice` call did.
public struct C2DPollResult {
    /// Messages received and handed to the handler in this call.
    public var received: Int
    /// Milliseconds until the next poll is allowed: sleep about this long before calling again.
    public var nextPollInMs: UInt64
}

extension HTTPSFace {
    /// Fetches one cloud-to-device message: `GET /devices/{id}/messages/deviceBound`.
    /// Returns nil on 204 (queue empty; the poll cycle ends) and the message on 200 (the
    /// cycle stays open: call again while messages come, up to the policy's per-cycle bound).
    ///
    /// Governed by the polling policy: a GET that would start a cycle earlier than the
    /// interval after the previous cycle's start throws `pollTooSoon` without sending.
    /// After 429/503 the next cycle waits for `Retry-After`. A message larger than the body
    /// buffer is rejected and reported as `receivedMessageTooLarge`.
    ///
    /// - Returns: the message, or nil when the queue is empty.
    /// - Throws: `HubError.pollTooSoon(remainingMs:)` without sending, `.receivedMessageTooLarge`,
    ///   `.missingLockToken` / `.invalidLockToken` for an unusable `ETag`, or what any request
    ///   throws (transport, throttling, authentication, an unexpected status).
    func receive() throws(HubError) -> CloudToDeviceMessage? {
        guard connection.moduleID == nil else { throw .cloudToDeviceNeedsDeviceIdentity }
        try checkMaySend()
        let now = platform.monotonicMs()
        try schedule.beginGet(now: now)
        let status: Int
        do throws(HubError) {
            var writer = try beginRequest(.get, .deviceBound)
            let length: Int
            do throws(HTTPEncodeError) { length = try writer.finish() } catch { throw .request(error) }
            status = try exchange(headLength: length, body: UnsafeRawBufferPointer(start: nil, count: 0))
        } catch {
            switch error {
            case .throttled(let seconds), .serviceUnavailable(let seconds):
                schedule.backOff(now: platform.monotonicMs(), retryAfterMs: UInt64(max(0, seconds)) * 1_000)
            default:
                schedule.endCycle()
            }
            throw error
        }
        if status == 204 {
            schedule.endCycle()
            return nil
        }
        guard status == 200 else {
            schedule.endCycle()
            throw .unexpectedStatus(status)
        }
        schedule.gotMessage()
        guard let etag = parser.etagUnquoted else { throw .missingLockToken }
        let lock = try C2DLockToken(etag)
        let payload: UnsafeRawBufferPointer
        do throws(HTTPParseError) {
            payload = try parser.body()
        } catch {
            if case .bodyTooLarge(let total) = error {
                try settle(lock, .reject)
                throw .receivedMessageTooLarge(totalBytes: total)
            }
            throw .response(error)
        }
        return CloudToDeviceMessage(payload: payload, headers: parser.headers, response: responsesRead)
    }

    /// Settles a received message as `disposition` says, by its lock token.
    ///
    /// - Parameters:
    ///   - message: a message from `receive()`.
    ///   - disposition: complete, reject or abandon.
    /// - Throws: `HubError.missingLockToken` for a message without lock token (received over
    ///   MQTT) or received before the client's last response (its headers are gone: settle it by
    ///   the `lockToken` kept from it), else what `settle(_:_:)` with a lock token throws.
    func settle(_ message: CloudToDeviceMessage, _ disposition: C2DDisposition) throws(HubError) {
        guard case .headers(_, let response) = message.source, response == responsesRead,
              let lock = message.lockToken else { throw .missingLockToken }
        try settle(lock, disposition)
    }

    /// Settles the message `lock` belongs to as `disposition` says, with `If-Match: "<lock>"`
    /// as the C SDK sends it.
    ///
    /// - Parameters:
    ///   - lock: the message's lock token.
    ///   - disposition: complete, reject or abandon.
    /// - Throws: `HubError.lockLost` (412) when the lock expired or the message was settled
    ///   already; what any request throws (transport, throttling, authentication, stopped).
    func settle(_ lock: C2DLockToken, _ disposition: C2DDisposition) throws(HubError) {
        try checkMaySend()
        var writer = try beginRequest(disposition == .abandon ? .post : .delete, .settle(lock, disposition))
        let length: Int
        do throws(HTTPEncodeError) {
            try writer.beginHeader(name: "If-Match")
            try writer.appendValue("\"")
            try lock.withBytes { (bytes) throws(HTTPEncodeError) in try writer.appendValue(bytes) }
            try writer.appendValue("\"")
            try writer.endHeader()
            length = disposition == .abandon ? try writer.finish(contentLength: 0) : try writer.finish()
        } catch {
            throw .request(error)
        }
        let status = try exchange(headLength: length, body: UnsafeRawBufferPointer(start: nil, count: 0))
        guard status == 204 || status == 200 else { throw .unexpectedStatus(status) }
    }

    /// One poll cycle, if due: receives while messages are waiting (at most the policy's
    /// per-cycle bound), hands each to `handler` and settles it as the handler answers.
    /// Returns at once (nothing sent) when no poll is due. Throws what `receive` or
    /// settling throws (a lost lock is not an error here: the message comes again).
    ///
    /// - Parameter handler: receives each message and answers how to settle it.
    /// - Returns: what the cycle did, and when the next poll is due.
    /// - Throws: what `receive()` and `settle(_:_:)` throw, except `.lockLost`.
    func pollCloudToDevice(_ handler: (CloudToDeviceMessage) -> C2DDisposition) throws(HubError) -> C2DPollResult {
        var received = 0
        while nextPollInMs == 0, !stopped {
            let message: CloudToDeviceMessage?
            do throws(HubError) {
                message = try receive()
            } catch {
                if case .pollTooSoon = error { break }
                throw error
            }
            guard let message else { break }
            received += 1
            let disposition = handler(message)
            do throws(HubError) {
                try settle(message, disposition)
            } catch {
                if case .lockLost = error { continue }
                schedule.endCycle()
                throw error
            }
        }
        return C2DPollResult(received: received, nextPollInMs: nextPollInMs)
    }
}
