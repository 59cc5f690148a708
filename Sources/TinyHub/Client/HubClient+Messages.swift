import TinyMQTT
import TinyPlatform

/// One application property of a telemetry message (name and value as raw UTF-8; the
/// client percent-encodes both).
public struct MessageProperty {
    /// Property name.
    public var name: UnsafeRawBufferPointer
    /// Property value.
    public var value: UnsafeRawBufferPointer

    /// A name/value pair in caller-owned memory.
    public init(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        self.name = name
        self.value = value
    }
}

/// The system properties IoT Hub understands on device-to-cloud messages.
public struct TelemetrySystemProperties {
    /// `$.mid`: message id (at most 128 characters).
    public var messageID: UnsafeRawBufferPointer? = nil
    /// `$.cid`: correlation id.
    public var correlationID: UnsafeRawBufferPointer? = nil
    /// `$.ct`: content type, e.g. `application/json` (needed for routing on the body).
    public var contentType: UnsafeRawBufferPointer? = nil
    /// `$.ce`: content encoding, e.g. `utf-8`.
    public var contentEncoding: UnsafeRawBufferPointer? = nil
    /// `$.ctime`: creation time (ISO 8601).
    public var creationTime: UnsafeRawBufferPointer? = nil

    /// No system properties.
    public init() {}
}

extension HubClient {
    /// Sends telemetry to `devices/{d}[/modules/{m}]/messages/events/` with the property
    /// bag built and percent-encoded here (an unencoded bag makes IoT Hub drop the
    /// connection silently). QoS 1 (default) is acknowledged with `.telemetryAcknowledged`
    /// and survives reconnects and token renewals; QoS 0 needs a connection.
    /// Returns the MQTT packet id (0 for QoS 0).
    @discardableResult
    public func sendTelemetry(_ payload: UnsafeRawBufferPointer, system: TelemetrySystemProperties = TelemetrySystemProperties(),
                              properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0),
                              qos: MQTTQoS = .atLeastOnce) throws(HubError) -> UInt16 {
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

    /// Writes `devices/{d}[/modules/{m}]/messages/events/` into the topic buffer; returns its length.
    /// The ready telemetry topic is rebuilt by the next message.
    func writeTelemetryPrefix() throws(HubError) -> Int {
        do {
            return try HubTopics.telemetry(deviceID: connection.deviceID, moduleID: connection.moduleID, into: claimTopicScratch())
        } catch {
            throw .topic(error)
        }
    }

    /// Answers a direct method on `$iothub/methods/res/{status}/?$rid={rid}` with `payload`
    /// (JSON or empty). `requestID` may point into the request event.
    public func respondToMethod(requestID: UnsafeRawBufferPointer, status: UInt16, payload: UnsafeRawBufferPointer) throws(HubError) {
        let length: Int
        do {
            length = try HubTopics.methodResponse(status: status, requestID: requestID, into: claimTopicScratch())
        } catch {
            throw .topic(error)
        }
        do {
            try session.publish(topic: UnsafeRawBufferPointer(rebasing: topicBuffer[0..<length]), payload: payload, qos: .atMostOnce)
        } catch {
            throw HubError(error)
        }
    }
}
