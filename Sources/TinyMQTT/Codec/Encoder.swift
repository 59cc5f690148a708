import TinyBytes

/// Encodes the packets a client sends (MQTT 3.1.1 §3) into caller-provided buffers.
/// Every function returns the packet's length, or throws before writing anything.
///
/// ```swift
/// let length = try MQTTEncoder.publish(topic: topic, payload: payload, qos: .atMostOnce, retain: false, packetID: 0, into: transmit)
/// try transport.send(UnsafeRawBufferPointer(rebasing: transmit[0..<length]), timeoutMs: 5_000)
/// ```
public enum MQTTEncoder {
    /// CONNECT (§3.1): protocol name "MQTT", level 4.
    ///
    /// - Parameters:
    ///   - options: the CONNECT fields.
    ///   - buffer: where the packet goes.
    /// - Returns: the packet's length.
    /// - Throws: `MQTTCodecError.bufferTooSmall` when `buffer` is too short, `fieldTooLong`/`invalidUTF8`/`nullCharacter` for a field MQTT cannot carry.
    public static func connect(_ options: MQTTConnectOptions, into buffer: UnsafeMutableRawBufferPointer) throws(MQTTCodecError) -> Int {
        try UTF8Check.validate(options.clientID)
        // Every checked field size is at most 65,537 and there are at most five fields: the
        // sums cannot overflow (`&+` spares an overflow check per term).
        var length = 10 &+ (try options.clientID.checkedFieldSize()) // variable header is 10 bytes
        var flags: UInt8 = options.cleanSession ? 0x02 : 0
        if let will = options.will {
            try checkTopicName(will.topic)
            length &+= try will.topic.checkedFieldSize() &+ will.payload.checkedFieldSize()
            flags |= 0x04 | will.qos.rawValue << 3 | (will.retain ? 0x20 : 0)
        }
        if let username = options.username {
            try UTF8Check.validate(username)
            length &+= try username.checkedFieldSize()
            flags |= 0x80
        }
        if let password = options.password {
            // §3.1.2.9: a password without a user name is not allowed.
            guard options.username != nil else { throw .invalidFlags(packetType: MQTTPacketType.connect.rawValue) }
            length &+= try password.checkedFieldSize()
            flags |= 0x40
        }
        var writer = ByteSink(buffer)
        try writer.beginPacket(firstByte: MQTTPacketType.connect.rawValue << 4, remainingLength: length)
        // The variable header in one append (ten single-byte appends each checked the space again).
        let keepAlive = options.keepAliveSeconds
        let header: InlineArray<10, UInt8> = [0, 4, 0x4D, 0x51, 0x54, 0x54, // "MQTT"
                                              4, // protocol level 3.1.1
                                              flags, UInt8(truncatingIfNeeded: keepAlive >> 8), UInt8(truncatingIfNeeded: keepAlive)]
        header.span.withUnsafeBytes { writer.bytes($0) }
        writer.lengthPrefixed(options.clientID)
        if let will = options.will {
            writer.lengthPrefixed(will.topic)
            writer.lengthPrefixed(will.payload)
        }
        if let username = options.username { writer.lengthPrefixed(username) }
        if let password = options.password { writer.lengthPrefixed(password) }
        return writer.count
    }

    /// Total size of a PUBLISH with this topic and payload length (for sizing buffers).
    ///
    /// - Parameters:
    ///   - topicLength: the topic's length in bytes.
    ///   - payloadLength: the payload's length in bytes.
    ///   - qos: the quality of service (QoS 1 adds the packet id).
    /// - Returns: the packet's size in bytes.
    public static func publishSize(topicLength: Int, payloadLength: Int, qos: MQTTQoS) -> Int {
        let remaining = 2 + topicLength + (qos == .atMostOnce ? 0 : 2) + payloadLength
        return 1 + PacketWriter.remainingLengthSize(remaining) + remaining
    }

    /// PUBLISH (§3.3). `packetID` must be non-zero for QoS 1 and is ignored for QoS 0.
    ///
    /// - Parameters:
    ///   - topic: the topic name (no wildcards).
    ///   - payload: the message body.
    ///   - qos: the quality of service.
    ///   - retain: the retain flag.
    ///   - dup: the duplicate flag (a resend).
    ///   - packetID: the packet id (QoS 1).
    ///   - buffer: where the packet goes.
    /// - Returns: the packet's length.
    /// - Throws: `MQTTCodecError.bufferTooSmall` when `buffer` is too short, `invalidTopic`, `zeroPacketIdentifier` for QoS 1 with id 0, `qos2NotSupported`.
    public static func publish(topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, qos: MQTTQoS,
                               retain: Bool = false, dup: Bool = false, packetID: UInt16 = 0,
                               into buffer: UnsafeMutableRawBufferPointer) throws(MQTTCodecError) -> Int {
        try checkTopicName(topic)
        return try publish(checkedTopic: topic, payload: payload, qos: qos, retain: retain, dup: dup, packetID: packetID, into: buffer)
    }

    /// PUBLISH (§3.3) to a topic the caller has already checked with `checkTopicName` (a layer
    /// that builds its topics from checked parts, such as the hub's telemetry topic).
    package static func publish(checkedTopic topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, qos: MQTTQoS,
                                retain: Bool = false, dup: Bool = false, packetID: UInt16 = 0,
                                into buffer: UnsafeMutableRawBufferPointer) throws(MQTTCodecError) -> Int {
        if qos == .atLeastOnce, packetID == 0 { throw .zeroPacketIdentifier }
        // At most 65,539 plus a buffer's count: no overflow.
        let length = try topic.checkedFieldSize() &+ (qos == .atMostOnce ? 0 : 2) &+ payload.count
        // §3.3.1.1: DUP must be 0 for QoS 0.
        let first = MQTTPacketType.publish.rawValue << 4 | (dup && qos != .atMostOnce ? 0x08 : 0)
            | qos.rawValue << 1 | (retain ? 0x01 : 0)
        var writer = ByteSink(buffer)
        try writer.beginPacket(firstByte: first, remainingLength: length)
        writer.lengthPrefixed(topic)
        if qos != .atMostOnce { writer.uint16(packetID) }
        writer.bytes(payload)
        return writer.count
    }

    /// PUBACK (§3.4).
    ///
    /// - Parameters:
    ///   - packetID: the id of the PUBLISH acknowledged.
    ///   - buffer: where the packet goes.
    /// - Returns: the packet's length.
    /// - Throws: `MQTTCodecError.bufferTooSmall` when `buffer` is too short, `zeroPacketIdentifier`.
    public static func puback(packetID: UInt16, into buffer: UnsafeMutableRawBufferPointer) throws(MQTTCodecError) -> Int {
        guard packetID != 0 else { throw .zeroPacketIdentifier }
        var writer = ByteSink(buffer)
        try writer.beginPacket(firstByte: MQTTPacketType.puback.rawValue << 4, remainingLength: 2)
        writer.uint16(packetID)
        return writer.count
    }

    /// SUBSCRIBE (§3.8) with one or more filters; the fixed-header flags are 0b0010.
    ///
    /// - Parameters:
    ///   - packetID: the request's packet id.
    ///   - subscriptions: the filters and their QoS.
    ///   - buffer: where the packet goes.
    /// - Returns: the packet's length.
    /// - Throws: `MQTTCodecError.bufferTooSmall` when `buffer` is too short, `noTopicFilters`, `invalidTopic`, `zeroPacketIdentifier`.
    public static func subscribe(packetID: UInt16, _ subscriptions: UnsafeBufferPointer<MQTTSubscription>,
                                 into buffer: UnsafeMutableRawBufferPointer) throws(MQTTCodecError) -> Int {
        guard packetID != 0 else { throw .zeroPacketIdentifier }
        guard !subscriptions.isEmpty else { throw .noTopicFilters }
        var length = 2
        for subscription in subscriptions {
            try checkTopicFilter(subscription.filter)
            length += try subscription.filter.checkedFieldSize() + 1
        }
        var writer = ByteSink(buffer)
        try writer.beginPacket(firstByte: MQTTPacketType.subscribe.rawValue << 4 | 0x02, remainingLength: length)
        writer.uint16(packetID)
        for subscription in subscriptions {
            writer.lengthPrefixed(subscription.filter)
            writer.byte(subscription.qos.rawValue)
        }
        return writer.count
    }

    /// UNSUBSCRIBE (§3.10) with one or more filters; the fixed-header flags are 0b0010.
    ///
    /// - Parameters:
    ///   - packetID: the request's packet id.
    ///   - filters: the filters to remove.
    ///   - buffer: where the packet goes.
    /// - Returns: the packet's length.
    /// - Throws: `MQTTCodecError.bufferTooSmall` when `buffer` is too short, `noTopicFilters`, `invalidTopic`, `zeroPacketIdentifier`.
    public static func unsubscribe(packetID: UInt16, _ filters: UnsafeBufferPointer<UnsafeRawBufferPointer>,
                                   into buffer: UnsafeMutableRawBufferPointer) throws(MQTTCodecError) -> Int {
        guard packetID != 0 else { throw .zeroPacketIdentifier }
        guard !filters.isEmpty else { throw .noTopicFilters }
        var length = 2
        for filter in filters {
            try checkTopicFilter(filter)
            length += try filter.checkedFieldSize()
        }
        var writer = ByteSink(buffer)
        try writer.beginPacket(firstByte: MQTTPacketType.unsubscribe.rawValue << 4 | 0x02, remainingLength: length)
        writer.uint16(packetID)
        for filter in filters { writer.lengthPrefixed(filter) }
        return writer.count
    }

    /// PINGREQ (§3.12): two bytes, 0xC0 0x00.
    ///
    /// - Parameter buffer: where the packet goes.
    /// - Returns: the packet's length.
    /// - Throws: `MQTTCodecError.bufferTooSmall` when `buffer` is too short.
    public static func pingreq(into buffer: UnsafeMutableRawBufferPointer) throws(MQTTCodecError) -> Int {
        var writer = ByteSink(buffer)
        try writer.beginPacket(firstByte: MQTTPacketType.pingreq.rawValue << 4, remainingLength: 0)
        return writer.count
    }

    /// DISCONNECT (§3.14): two bytes, 0xE0 0x00.
    ///
    /// - Parameter buffer: where the packet goes.
    /// - Returns: the packet's length.
    /// - Throws: `MQTTCodecError.bufferTooSmall` when `buffer` is too short.
    public static func disconnect(into buffer: UnsafeMutableRawBufferPointer) throws(MQTTCodecError) -> Int {
        var writer = ByteSink(buffer)
        try writer.beginPacket(firstByte: MQTTPacketType.disconnect.rawValue << 4, remainingLength: 0)
        return writer.count
    }

    /// A topic name to publish to: non-empty UTF-8 without wildcards (§4.7.1, §4.7.3).
    package static func checkTopicName(_ topic: UnsafeRawBufferPointer) throws(MQTTCodecError) {
        guard topic.count > 0 else { throw .invalidTopic }
        if UTF8Check.isPlainTopicName(topic) { return } // the common case, in one pass
        for byte in topic where byte == 0x2B || byte == 0x23 { throw .invalidTopic } // '+' '#'
        try UTF8Check.validate(topic)
    }

    /// A topic filter: non-empty UTF-8; `#` only last and alone in its level, `+` alone in its level (§4.7.1).
    static func checkTopicFilter(_ filter: UnsafeRawBufferPointer) throws(MQTTCodecError) {
        guard filter.count > 0 else { throw .invalidTopic }
        try UTF8Check.validate(filter)
        for (index, byte) in filter.enumerated() where byte == 0x2B || byte == 0x23 {
            let startsLevel = index == 0 || filter[index - 1] == 0x2F
            let endsLevel = index == filter.count - 1 || filter[index + 1] == 0x2F
            guard startsLevel, endsLevel else { throw .invalidTopic }
            if byte == 0x23, index != filter.count - 1 { throw .invalidTopic }
        }
    }
}
