import TinyBytes
import TinyMQTT
import TinyPlatform

extension MQTTFace {
    /// Asks for the full twin (`$iothub/twin/GET/?$rid=`); the answer arrives as `.twin`.
    /// Returns the request id.
    ///
    /// - Returns: the request id the answer will carry.
    /// - Throws: `HubError.tooManyPendingRequests` when every request slot awaits an answer,
    ///   `.notConnected`, or what sending throws.
    @discardableResult
    func requestTwin() throws(HubError) -> UInt32 {
        try twinRequest(.get, body: UnsafeRawBufferPointer(start: nil, count: 0))
    }

    /// Sends a reported-properties patch (a JSON object; `null` members delete). The
    /// answer arrives as `.reportedPropertiesAccepted` or `.twinRequestFailed`.
    ///
    /// - Parameter json: the patch, a JSON object.
    /// - Returns: the request id the answer will carry.
    /// - Throws: `HubError.tooManyPendingRequests` when every request slot awaits an answer,
    ///   `.notConnected`, or what sending throws.
    @discardableResult
    func reportProperties(_ json: UnsafeRawBufferPointer) throws(HubError) -> UInt32 {
        try twinRequest(.reportedPatch, body: json)
    }

    private func twinRequest(_ kind: TwinState.Kind, body: UnsafeRawBufferPointer) throws(HubError) -> UInt32 {
        guard session.isConnected else { throw .notConnected }
        let (sum, overflow) = platform.monotonicMs().addingReportingOverflow(UInt64(settings.twinRequestTimeoutMs))
        let deadline = overflow ? UInt64.max : sum
        guard let requestID = twin.begin(kind, deadlineMs: deadline) else { throw .tooManyPendingRequests }
        do throws(HubError) {
            let scratch = topicScratch()
            let length = try Decimal.withText(Int64(requestID)) { (rid) throws(HubError) -> Int in
                do throws(TopicError) {
                    return kind == .get
                        ? try HubTopics.twinGet(requestID: rid, into: scratch)
                        : try HubTopics.twinReportedPatch(requestID: rid, into: scratch)
                } catch {
                    throw .topic(error)
                }
            }
            do throws(MQTTError) {
                // QoS 0 like the C SDK: the request has its own timeout and answer.
                try session.publish(topic: UnsafeRawBufferPointer(rebasing: scratch[0..<length]), payload: body, qos: .atMostOnce)
            } catch {
                throw HubError(error)
            }
        } catch {
            _ = twin.finish(requestID)
            throw error
        }
        return requestID
    }

    /// Handles `$iothub/twin/res/{status}/?$rid=...`.
    func twinResponse(status: UInt16, requestID: UnsafeRawBufferPointer, version: Int64?, body: UnsafeRawBufferPointer,
                      _ handler: (HubEvent) -> Void) {
        guard let id = Decimal.value(requestID, limit: UInt64(UInt32.max)).map({ UInt32($0) }), let request = twin.finish(id) else { return } // not ours or late
        guard status < 300 else {
            handler(.twinRequestFailed(requestID: id, status: status))
            return
        }
        switch request.kind {
        case .reportedPatch:
            handler(.reportedPropertiesAccepted(requestID: id, version: version))
        case .get:
            let desired = (try? JSONPointer.integer("/desired/$version", in: body)) ?? nil
            let changed = desired != nil && twin.lastDesiredVersion != nil && desired != twin.lastDesiredVersion
            if let desired { twin.lastDesiredVersion = desired }
            handler(.twin(TwinDocument(requestID: id, body: body, desiredVersion: desired, desiredChanged: changed)))
        }
    }

    /// Reports requests whose answer is overdue; returns whether any was.
    func expireTwinRequests(_ handler: (HubEvent) -> Void) -> Bool {
        var waiting = false
        for i in twin.pending.indices where twin.pending[i].requestID != 0 { waiting = true }
        guard waiting else { return false } // no clock read when nothing waits
        let now = platform.monotonicMs()
        var expired = false
        for i in twin.pending.indices where twin.pending[i].requestID != 0 && now >= twin.pending[i].deadlineMs {
            let id = twin.pending[i].requestID
            twin.pending[i] = TwinState.Pending()
            handler(.twinRequestFailed(requestID: id, status: 0))
            expired = true
        }
        return expired
    }

    /// Fails every outstanding request (their connection is gone).
    func failTwinRequests(_ handler: (HubEvent) -> Void) {
        for i in twin.pending.indices where twin.pending[i].requestID != 0 {
            let id = twin.pending[i].requestID
            twin.pending[i] = TwinState.Pending()
            handler(.twinRequestFailed(requestID: id, status: 0))
        }
    }
}
