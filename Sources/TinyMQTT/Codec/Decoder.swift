/// The fixed header of a received packet (§2.2).
public struct MQTTFixedHeader: Equatable {
    /// The first byte: type in the high nibble, flags in the low one.
    public var firstByte: UInt8
    /// Length of the variable header plus payload.
    public var remainingLength: Int
    /// Bytes taken by the fixed header itself (2...5).
    public var headerLength: Int

    /// Whole packet length.
    public var packetLength: Int { headerLength + remainingLength }
    /// The packet type nibble.
    public var typeNibble: UInt8 { firstByte >> 4 }
}

/// A received PUBLISH (§3.3). Topic and payload point into the receive buffer and are
/// valid only until the session reads again.
public struct MQTTPublish {
    /// Topic name bytes (validated UTF-8, no wildcards).
    public var topic: UnsafeRawBufferPointer
    /// Application payload.
    public var payload: UnsafeRawBufferPointer
    /// Delivery QoS (0 or 1).
    public var qos: MQTTQoS
    /// DUP flag: this may be a redelivery.
    public var dup: Bool
    /// RETAIN flag.
    public var retain: Bool
    /// Packet identifier (0 for QoS 0).
    public var packetID: UInt16
}

/// A packet a client can receive.
public enum MQTTInboundPacket {
    /// CONNACK (§3.2).
    case connack(sessionPresent: Bool, returnCode: UInt8)
    /// PUBLISH (§3.3).
    case publish(MQTTPublish)
    /// PUBACK (§3.4).
    case puback(packetID: UInt16)
    /// SUBACK (§3.9); one return code per filter: 0/1/2 granted QoS, 0x80 failure.
    case suback(packetID: UInt16, returnCodes: UnsafeRawBufferPointer)
    /// UNSUBACK (§3.11).
    case unsuback(packetID: UInt16)
    /// PINGRESP (§3.13).
    case pingresp
}

/// Decodes packets a client receives. Input is hostile: every path is bounds-checked
/// and ends in a packet or an `MQTTCodecError`.
///
/// ```swift
/// if let (packet, length) = try MQTTDecoder.decode(received) {
///     if case .publish(let message) = packet { /* message.topic, message.payload */ }
///     // the next packet starts `length` bytes on
/// }
/// ```
public enum MQTTDecoder {
    /// Reads the fixed header at the start of `bytes`. Returns nil when more bytes are needed.
    ///
    /// - Parameter bytes: the received bytes, from a packet's start.
    /// - Returns: the fixed header, or nil when more bytes are needed.
    /// - Throws: `MQTTCodecError.malformedRemainingLength`.
    public static func fixedHeader(_ bytes: UnsafeRawBufferPointer) throws(MQTTCodecError) -> MQTTFixedHeader? {
        guard bytes.count >= 2 else { return nil }
        var value = 0
        var multiplier = 1
        var index = 1
        while true {
            guard index < bytes.count else { return nil }
            let digit = bytes[index]
            value += Int(digit & 0x7F) * multiplier
            index += 1
            if digit & 0x80 == 0 { break }
            // §2.2.3: at most four bytes.
            guard index < 5 else { throw .malformedRemainingLength }
            multiplier *= 128
        }
        return MQTTFixedHeader(firstByte: bytes[0], remainingLength: value, headerLength: index)
    }

    /// Decodes one whole packet whose fixed header is `header` and body is `body`
    /// (exactly `header.remainingLength` bytes).
    ///
    /// - Parameters:
    ///   - header: the packet's fixed header.
    ///   - body: the rest of the packet.
    /// - Returns: the packet (its byte fields are views into `body`).
    /// - Throws: `MQTTCodecError` for a malformed packet (bad flags, length, QoS, UTF-8, an unexpected type).
    public static func decode(header: MQTTFixedHeader, body: UnsafeRawBufferPointer) throws(MQTTCodecError) -> MQTTInboundPacket {
        guard body.count == header.remainingLength else { throw .truncated }
        let flags = header.firstByte & 0x0F
        let type = header.typeNibble
        var reader = PacketReader(body)
        // Matched on the raw nibble (MQTTPacketType's values): no enum conversion per packet.
        switch type {
        case 2, 4, 9, 11, 13: // CONNACK, PUBACK, SUBACK, UNSUBACK, PINGRESP: flags 0 (§2.2.2)
            guard flags == 0 else { throw .invalidFlags(packetType: type) }
        case 3:
            break
        case 5, 6, 7: // PUBREC, PUBREL, PUBCOMP
            throw .qos2NotSupported
        default:
            throw .unexpectedPacketType(type)
        }
        switch type {
        case 2: // CONNACK
            guard body.count == 2 else { throw .invalidLength(packetType: type) }
            let acknowledge = try reader.byte()
            let code = try reader.byte()
            // §3.2.2.1: bits 7-1 reserved; §3.2.2.3: codes 0-5; session present must be 0 with a refusal.
            guard acknowledge & 0xFE == 0, code <= 5, !(code != 0 && acknowledge == 1) else { throw .invalidConnack }
            return .connack(sessionPresent: acknowledge == 1, returnCode: code)
        case 3: // PUBLISH
            let qosBits = (flags >> 1) & 0x03
            if qosBits == 3 { throw .invalidQoS }
            if qosBits == 2 { throw .qos2NotSupported }
            let dup = flags & 0x08 != 0
            // §3.3.1.1: DUP must be 0 on QoS 0.
            if qosBits == 0, dup { throw .invalidFlags(packetType: type) }
            let topic = try reader.bytes(Int(try reader.uint16()))
            if !UTF8Check.isPlainTopicName(topic) {
                // Not plain ASCII: the exact checks, in the order that picks the error.
                try UTF8Check.validate(topic)
                guard topic.count > 0 else { throw .invalidTopic }
                for byte in topic where byte == 0x2B || byte == 0x23 { throw .invalidTopic }
            }
            var packetID: UInt16 = 0
            if qosBits == 1 {
                packetID = try reader.uint16()
                guard packetID != 0 else { throw .zeroPacketIdentifier }
            }
            return .publish(MQTTPublish(topic: topic, payload: reader.rest(), qos: qosBits == 1 ? .atLeastOnce : .atMostOnce,
                                        dup: dup, retain: flags & 0x01 != 0, packetID: packetID))
        case 4: // PUBACK
            return .puback(packetID: try onlyPacketID(&reader, type: type))
        case 9: // SUBACK
            let id = try reader.uint16()
            guard id != 0 else { throw .zeroPacketIdentifier }
            let codes = reader.rest()
            guard codes.count > 0 else { throw .invalidLength(packetType: type) }
            for code in codes where !(code <= 2 || code == 0x80) { throw .invalidSubackReturnCode(code) }
            return .suback(packetID: id, returnCodes: codes)
        case 11: // UNSUBACK
            return .unsuback(packetID: try onlyPacketID(&reader, type: type))
        default: // PINGRESP (the first switch let no other type through)
            guard body.count == 0 else { throw .invalidLength(packetType: type) }
            return .pingresp
        }
    }

    /// Decodes the packet at the start of `bytes`. Returns nil when the packet is not
    /// complete yet; otherwise the packet and how many bytes it took.
    ///
    /// - Parameter bytes: the received bytes, from a packet's start.
    /// - Returns: the packet (views into `bytes`) and its length, or nil when incomplete.
    /// - Throws: `MQTTCodecError` for a malformed packet (bad flags, length, QoS, UTF-8, an unexpected type).
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(MQTTCodecError) -> (packet: MQTTInboundPacket, length: Int)? {
        guard let header = try fixedHeader(bytes), bytes.count >= header.packetLength else { return nil }
        let body = UnsafeRawBufferPointer(rebasing: bytes[header.headerLength..<header.packetLength])
        return (try decode(header: header, body: body), header.packetLength)
    }

    private static func onlyPacketID(_ reader: inout PacketReader, type: UInt8) throws(MQTTCodecError) -> UInt16 {
        guard reader.remaining == 2 else { throw .invalidLength(packetType: type) }
        let id = try reader.uint16()
        guard id != 0 else { throw .zeroPacketIdentifier }
        return id
    }
}
