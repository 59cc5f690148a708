import TinyMQTT
import TinyPlatform

extension MQTTFace {
    /// Sends telemetry at QoS 1, as `sendTelemetry(_:system:properties:qos:)` with `.atLeastOnce`
    /// (the form both faces share, `HubFace`).
    ///
    /// - Parameters:
    ///   - payload: the message body.
    ///   - system: the system properties (message id, content type...).
    ///   - properties: the application properties.
    /// - Returns: the MQTT packet id, reported again by `.telemetryAcknowledged`.
    /// - Throws: as `sendTelemetry(_:system:properties:qos:)`.
    @discardableResult
    public func sendTelemetry(_ payload: UnsafeRawBufferPointer, system: TelemetrySystemProperties = TelemetrySystemProperties(),
                              properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0))
                              throws(HubError) -> UInt16 {
        try sendTelemetry(payload, system: system, properties: properties, qos: .atLeastOnce)
    }

    /// Sends telemetry to `devices/{d}[/modules/{m}]/messages/events/` with the property
    /// bag built and percent-encoded here (an unencoded bag makes IoT Hub drop the
    /// connection silently). QoS 1 is acknowledged with `.telemetryAcknowledged`
    /// and survives reconnects and token renewals; QoS 0 needs a connection.
    ///
    /// - Parameters:
    ///   - payload: the message body.
    ///   - system: the system properties (message id, content type...).
    ///   - properties: the application properties.
    ///   - qos: MQTT quality of service.
    /// - Returns: the MQTT packet id (0 for QoS 0).
    /// - Throws: `.inflightWindowFull`, `.notConnected` (QoS 0), `.messageTooLarge`, `.properties`, `.topic`.
    @discardableResult
    func sendTelemetry(_ payload: UnsafeRawBufferPointer, system: TelemetrySystemProperties = TelemetrySystemProperties(),
                              properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0),
                              qos: MQTTQoS) throws(HubError) -> UInt16 {
        let end = try writeTelemetryTopic(payloadCount: payload.count, system: system, properties: properties).end
        do {
            // The ready part was checked once (`readyTelemetryTopic`); the rest is percent-encoded.
            return try session.publish(checkedTopic: UnsafeRawBufferPointer(rebasing: topicBuffer[0..<end]), payload: payload, qos: qos)
        } catch {
            throw HubError(error)
        }
    }

    /// Writes the telemetry topic with its property bag (the fixed properties of
    /// `setTelemetryProperties`, then these) into the topic buffer after checking the hub's size
    /// limit; returns where the bag starts (after `…/messages/events/`) and ends.
    func writeTelemetryTopic(payloadCount: Int, system: TelemetrySystemProperties,
                             properties: UnsafeBufferPointer<MessageProperty>) throws(HubError) -> (bagStart: Int, end: Int) {
        // The fixed properties count like the message's own: the same rule as over HTTPS.
        try HubLimits.checkTelemetrySize(payloadCount: payloadCount + telemetryTopic.fixedBytes, system: system, properties: properties)
        let own = !system.isEmpty || !properties.isEmpty
        let ready = try readyTelemetryTopic()
        guard own else { return (telemetryTopic.prefixEnd, ready) } // the ready topic as it is
        let bag = try writeBag(start: ready, count: telemetryTopic.fixedCount, system: system, properties: properties)
        return (telemetryTopic.prefixEnd, bag.end)
    }

    /// Writes `devices/{d}[/modules/{m}]/messages/events/` into `buffer`; returns its length.
    func writeTelemetryPrefix(into buffer: UnsafeMutableRawBufferPointer) throws(HubError) -> Int {
        do {
            return try HubTopics.telemetry(deviceID: connection.deviceID, moduleID: connection.moduleID, into: buffer)
        } catch {
            throw .topic(error)
        }
    }

    /// Answers a direct method on `$iothub/methods/res/{status}/?$rid={rid}` with `payload`
    /// (JSON or empty). `requestID` may point into the request event.
    ///
    /// - Parameters:
    ///   - requestID: the request's `$rid`, from `.methodRequest`.
    ///   - status: the status code reported to the caller (for example 200).
    ///   - payload: the response body: JSON, or empty.
    /// - Throws: `HubError.notConnected`, `.topic` when the topic does not fit the topic buffer,
    ///   or what sending throws (`.mqtt`, `.transport`).
    func respondToMethod(requestID: UnsafeRawBufferPointer, status: UInt16, payload: UnsafeRawBufferPointer) throws(HubError) {
        let scratch = topicScratch()
        let length: Int
        do {
            length = try HubTopics.methodResponse(status: status, requestID: requestID, into: scratch)
        } catch {
            throw .topic(error)
        }
        do {
            try session.publish(topic: UnsafeRawBufferPointer(rebasing: scratch[0..<length]), payload: payload, qos: .atMostOnce)
        } catch {
            throw HubError(error)
        }
    }
}
