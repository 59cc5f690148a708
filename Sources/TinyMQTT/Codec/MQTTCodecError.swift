/// Why an MQTT packet could not be encoded or decoded. Decoding treats every byte as
/// hostile: each malformed input maps to one of these, never to a trap.
public enum MQTTCodecError: Error, Equatable {
    /// The output buffer is too small for the packet (`needed` bytes in all).
    case bufferTooSmall(needed: Int)
    /// A string or binary field is longer than 65,535 bytes, or a packet longer than 268,435,455.
    case fieldTooLong
    /// The remaining-length field uses more than 4 bytes (MQTT 3.1.1 §2.2.3).
    case malformedRemainingLength
    /// The fixed-header flag bits are not the ones the spec reserves for this type (§2.2.2).
    case invalidFlags(packetType: UInt8)
    /// A QoS value of 3 (§3.3.1.2).
    case invalidQoS
    /// A QoS 2 packet: Azure IoT Hub does not use QoS 2, so TinyHub treats it as a protocol error.
    case qos2NotSupported
    /// A packet identifier of 0 where a non-zero one is required (§2.3.1).
    case zeroPacketIdentifier
    /// A length field points past the end of the packet.
    case truncated
    /// The remaining length does not match what this packet type must carry.
    case invalidLength(packetType: UInt8)
    /// A string is not well-formed UTF-8 (§1.5.3).
    case invalidUTF8
    /// A string contains U+0000 (§1.5.3).
    case nullCharacter
    /// A topic name is empty or contains a wildcard (§4.7.3, §3.3.2.1).
    case invalidTopic
    /// A packet type a client never receives (CONNECT, SUBSCRIBE, ...) or the reserved types 0 and 15.
    case unexpectedPacketType(UInt8)
    /// A CONNACK with reserved acknowledge-flag bits set or a return code above 5 (§3.2.2).
    case invalidConnack
    /// A SUBACK return code other than 0x00, 0x01, 0x02 or 0x80 (§3.9.3).
    case invalidSubackReturnCode(UInt8)
    /// A SUBSCRIBE or UNSUBSCRIBE with no topic filter (§3.8.3).
    case noTopicFilters
}
