import TinyMQTT

/// The telemetry topic, kept ready between messages: `devices/{d}[/modules/{m}]/messages/events/`
/// and the properties every message carries are written and checked once, at the start of the
/// topic buffer; a message then only adds its own properties after them. Other topics (twin,
/// method responses, the outbox's stored bags) are written over it; the next telemetry message
/// rebuilds it from the connection and the copy of the fixed bag kept at the buffer's end.
struct TelemetryTopicCache {
    /// End of the ready topic in the topic buffer (prefix + fixed bag), or 0 when it must be rebuilt.
    var end = 0
    /// Where the prefix ends (and the fixed bag starts) in the ready topic.
    var prefixEnd = 0
    /// Offset in the topic buffer of the fixed bag's copy (the buffer's tail); the buffer's count when none.
    var fixedStart: Int? = nil
    /// Properties in the fixed bag.
    var fixedCount = 0
    /// Unencoded bytes of the fixed properties' names and values (they count toward the hub's size limit).
    var fixedBytes = 0
}

extension MQTTFace {
    /// Sets properties that every telemetry message carries from now on (for example
    /// `contentType` `application/json` and `contentEncoding` `utf-8`, which IoT Hub needs to route
    /// on the body). They are percent-encoded once, here, into the end of the topic buffer, instead
    /// of on every `sendTelemetry`; a message's own properties follow them. Replaces the fixed
    /// properties set before. Messages already queued keep theirs.
    ///
    /// - Parameters:
    ///   - system: System properties for every message.
    ///   - properties: Application properties for every message.
    /// - Throws: `.properties` when the encoded bag and the longest telemetry prefix do not fit the
    ///   topic buffer together, `.topic` when the device or module id cannot be part of a topic.
    func setTelemetryProperties(system: TelemetrySystemProperties = TelemetrySystemProperties(),
                                       properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0))
        throws(HubError) {
        telemetryTopic = TelemetryTopicCache()
        let prefix = try writeTelemetryPrefix()
        // Encode after the prefix, then move the bag to the buffer's tail, where it stays.
        let bag = try writeBag(start: prefix, count: 0, system: system, properties: properties)
        let length = bag.end - prefix
        guard length > 0 else { return }
        let start = topicBuffer.count - length
        guard start >= bag.end else { throw .properties(.bufferTooSmall(needed: bag.end + length)) }
        UnsafeMutableRawBufferPointer(rebasing: topicBuffer[start..<topicBuffer.count])
            .copyMemory(from: UnsafeRawBufferPointer(rebasing: topicBuffer[prefix..<bag.end]))
        telemetryTopic.fixedStart = start
        telemetryTopic.fixedCount = bag.count
        telemetryTopic.fixedBytes = HubLimits.countedBytes(system: system, properties: properties)
    }

    /// Whether a QoS 1 telemetry message of `payloadCount` bytes, with the fixed properties
    /// (`setTelemetryProperties`) and no others, would be queued now. Ask before formatting a
    /// message: when the in-flight window is full, `poll` until a `.telemetryAcknowledged` first.
    ///
    /// - Parameter payloadCount: The payload's size in bytes.
    func hasInflightRoom(payloadCount: Int) -> Bool {
        if telemetryTopic.end > 0 { // the ready topic's length
            return session.canPublish(topicLength: telemetryTopic.end, payloadLength: payloadCount)
        }
        let fixedLength = telemetryTopic.fixedStart.map { topicBuffer.count - $0 } ?? 0
        return session.canPublish(topicLength: telemetryPrefixLength + fixedLength, payloadLength: payloadCount)
    }

    /// How much of the topic buffer other topics may use: all but the fixed bag's copy.
    var topicScratchLimit: Int { telemetryTopic.fixedStart ?? topicBuffer.count }

    /// The part of the topic buffer another topic is about to be written into (twin, method
    /// response): the ready telemetry topic will be rebuilt.
    func claimTopicScratch() -> UnsafeMutableRawBufferPointer {
        telemetryTopic.end = 0
        return UnsafeMutableRawBufferPointer(rebasing: topicBuffer[0..<topicScratchLimit])
    }

    /// Length of `devices/{d}[/modules/{m}]/messages/events/`.
    var telemetryPrefixLength: Int {
        8 + connection.deviceID.count + (connection.moduleID.map { 9 + $0.count } ?? 0) + 17
    }

    /// Makes the telemetry topic with the fixed bag ready at the start of the topic buffer
    /// (checked as an MQTT topic name once) and returns its end.
    func readyTelemetryTopic() throws(HubError) -> Int {
        if telemetryTopic.end > 0 { return telemetryTopic.end }
        let prefix = try writeTelemetryPrefix()
        var end = prefix
        if let start = telemetryTopic.fixedStart {
            end += topicBuffer.count - start
            guard end <= start else { throw .properties(.bufferTooSmall(needed: end + topicBuffer.count - start)) }
            UnsafeMutableRawBufferPointer(rebasing: topicBuffer[prefix..<end])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: topicBuffer[start..<topicBuffer.count]))
        }
        do throws(MQTTCodecError) {
            try MQTTEncoder.checkTopicName(UnsafeRawBufferPointer(rebasing: topicBuffer[0..<end]))
        } catch {
            throw .mqtt(.encoding(error))
        }
        telemetryTopic.prefixEnd = prefix
        telemetryTopic.end = end
        return end
    }

    /// Appends `system` and `properties`, percent-encoded, from `start` on (after `count`
    /// properties already there); returns the end and the number of properties in the bag.
    func writeBag(start: Int, count: Int, system: TelemetrySystemProperties,
                  properties: UnsafeBufferPointer<MessageProperty>) throws(HubError) -> (end: Int, count: Int) {
        let limit = topicScratchLimit
        guard !system.isEmpty || !properties.isEmpty else { return (start, count) }
        var first = start
        if count > 0 {
            guard start < limit else { throw .properties(.bufferTooSmall(needed: start + 1)) }
            topicBuffer[start] = 0x26 // '&' after the fixed bag
            first += 1
        }
        var bag = PropertyBagWriter(buffer: UnsafeMutableRawBufferPointer(rebasing: topicBuffer[0..<limit]), start: first)
        do throws(PropertyBagError) {
            try system.forEach { (property, value) throws(PropertyBagError) in try bag.append(name: property.propertyBagName, value: value) }
            for property in properties { try bag.append(name: property.name, value: property.value) }
        } catch {
            throw .properties(error)
        }
        return (bag.endIndex, count + bag.propertyCount)
    }
}
