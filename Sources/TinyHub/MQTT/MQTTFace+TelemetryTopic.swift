import TinyMQTT

/// The telemetry topic, kept ready between messages: `devices/{d}[/modules/{m}]/messages/events/`
/// and the properties every message carries are written and checked once, at the start of the
/// topic buffer, and stay there. What follows them is scratch space: a message's own
/// properties, appended to the ready topic, and the other topics (twin, method responses, the
/// outbox's stored bags), written and published from there.
struct TelemetryTopicCache {
    /// End of the ready topic in the topic buffer (prefix + fixed bag), or 0 when it is not written yet.
    var end = 0
    /// Where the prefix ends (and the fixed bag starts) in the ready topic.
    var prefixEnd = 0
    /// Properties in the fixed bag.
    var fixedCount = 0
    /// Unencoded bytes of the fixed properties' names and values (they count toward the hub's size limit).
    var fixedBytes = 0
}

extension MQTTFace {
    /// Sets properties that every telemetry message carries from now on (for example
    /// `contentType` `application/json` and `contentEncoding` `utf-8`, which IoT Hub needs to route
    /// on the body). They are percent-encoded once, here, after the telemetry topic at the start of
    /// the topic buffer, instead of on every `sendTelemetry`; a message's own properties follow
    /// them. Replaces the fixed properties set before (none are left when this throws). Messages
    /// already queued keep theirs.
    ///
    /// - Parameters:
    ///   - system: System properties for every message.
    ///   - properties: Application properties for every message.
    /// - Throws: `.properties` when the telemetry topic and the encoded bag do not fit the topic
    ///   buffer together, `.topic` when the device or module id cannot be part of a topic.
    func setTelemetryProperties(system: TelemetrySystemProperties = TelemetrySystemProperties(),
                                       properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0))
        throws(HubError) {
        telemetryTopic = TelemetryTopicCache()
        let prefix = try readyTelemetryTopic()
        let bag = try writeBag(start: prefix, count: 0, system: system, properties: properties)
        telemetryTopic.end = bag.end
        telemetryTopic.fixedCount = bag.count
        telemetryTopic.fixedBytes = HubLimits.countedBytes(system: system, properties: properties)
    }

    /// Whether a QoS 1 telemetry message of `payloadCount` bytes, with the fixed properties
    /// (`setTelemetryProperties`) and no others, would be queued now. Ask before formatting a
    /// message: when the in-flight window is full, `poll` until a `.telemetryAcknowledged` first.
    ///
    /// - Parameter payloadCount: The payload's size in bytes.
    func hasInflightRoom(payloadCount: Int) -> Bool {
        // The ready topic is made here when no message made it yet. A topic that cannot be made
        // counts as empty: `sendTelemetry` then throws why.
        let topicLength = (try? readyTelemetryTopic()) ?? 0
        return session.canPublish(topicLength: topicLength, payloadLength: payloadCount)
    }

    /// The topic buffer after the ready telemetry topic, where other topics are written (twin,
    /// method response, the outbox's stored messages) and published from.
    func topicScratch() -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: topicBuffer[telemetryTopic.end...])
    }

    /// Makes the telemetry topic ready at the start of the topic buffer, once (written and checked
    /// as an MQTT topic name; the fixed bag after it is percent-encoded), and returns its end.
    func readyTelemetryTopic() throws(HubError) -> Int {
        if telemetryTopic.end > 0 { return telemetryTopic.end }
        let prefix = try writeTelemetryPrefix(into: topicBuffer)
        do throws(MQTTCodecError) {
            try MQTTEncoder.checkTopicName(UnsafeRawBufferPointer(rebasing: topicBuffer[0..<prefix]))
        } catch {
            throw .mqtt(.encoding(error))
        }
        telemetryTopic.prefixEnd = prefix
        telemetryTopic.end = prefix
        return prefix
    }

    /// Appends `system` and `properties`, percent-encoded, from `start` on (after `count`
    /// properties already there); returns the end and the number of properties in the bag.
    func writeBag(start: Int, count: Int, system: TelemetrySystemProperties,
                  properties: UnsafeBufferPointer<MessageProperty>) throws(HubError) -> (end: Int, count: Int) {
        guard !system.isEmpty || !properties.isEmpty else { return (start, count) }
        var first = start
        if count > 0 {
            guard start < topicBuffer.count else { throw .properties(.bufferTooSmall(needed: start + 1)) }
            topicBuffer[start] = 0x26 // '&' after the fixed bag
            first += 1
        }
        var bag = PropertyBagWriter(buffer: topicBuffer, start: first)
        do throws(PropertyBagError) {
            try system.forEach { (property, value) throws(PropertyBagError) in try bag.append(name: property.propertyBagName, value: value) }
            for property in properties { try bag.append(name: property.name, value: property.value) }
        } catch {
            throw .properties(error)
        }
        return (bag.endIndex, count + bag.propertyCount)
    }
}
