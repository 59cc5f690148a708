// libFuzzer entry for the MQTT 3.1.1 codec (Sources/TinyMQTT/Codec). Compiled into the same
// module as the codec sources by scripts/check/fuzz.sh, so internal types (PacketReader) are visible.
//
// Two parts per input:
//  1. Decode: the whole input is treated as a byte stream from the broker; packets are decoded
//     one after another until the decoder needs more bytes (nil) or reports an error. Every field
//     of every decoded packet is read (ASan catches out-of-bounds views) and checked for the
//     invariants the decoder promises.
//  2. Round trip: a PUBLISH, a SUBSCRIBE and an UNSUBSCRIBE are built from fuzz-derived fields
//     with MQTTEncoder, then decoded again (PUBLISH via MQTTDecoder, the client-to-server packets
//     with PacketReader) and compared field by field. Any mismatch traps: that is the oracle.

/// Stops the fuzzer with a message; `precondition` also works in -O builds.
@inline(never)
func fuzzFail(_ message: StaticString, line: UInt = #line) -> Never {
    fatalError("fuzz oracle: \(message)", line: line)
}

@inline(__always)
func check(_ condition: Bool, _ message: StaticString, line: UInt = #line) {
    if !condition { fuzzFail(message, line: line) }
}

func sameBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    a.count == b.count && a.elementsEqual(b)
}

/// Consumes fuzz bytes to derive structured values.
struct FuzzCursor {
    let data: UnsafeRawBufferPointer
    var position = 0

    mutating func byte() -> UInt8 {
        guard position < data.count else { return 0 }
        defer { position += 1 }
        return data[position]
    }

    mutating func uint16() -> UInt16 { UInt16(byte()) << 8 | UInt16(byte()) }

    mutating func bytes(_ count: Int) -> UnsafeRawBufferPointer {
        let n = min(count, data.count - position)
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: data[position..<(position + n)])
    }

    mutating func rest() -> UnsafeRawBufferPointer { bytes(data.count - position) }
}

// MARK: - Part 1: stream decoding

func decodeStream(_ input: UnsafeRawBufferPointer) {
    var offset = 0
    var checksum: UInt8 = 0
    while offset < input.count {
        let slice = UnsafeRawBufferPointer(rebasing: input[offset...])
        let result: (packet: MQTTInboundPacket, length: Int)?
        do {
            result = try MQTTDecoder.decode(slice)
        } catch {
            // A decode error must be consistent with the fixed-header parser: if the header
            // itself is malformed, fixedHeader must say so too.
            if error == .malformedRemainingLength {
                do { _ = try MQTTDecoder.fixedHeader(slice); fuzzFail("decode: bad header, fixedHeader: ok") } catch {}
            }
            return
        }
        guard let (packet, length) = result else {
            // nil means "need more bytes": the header is incomplete or the body is short.
            if let header = try? MQTTDecoder.fixedHeader(slice) {
                check(header.packetLength > slice.count, "nil from decode although the packet is complete")
            }
            return
        }
        check(length >= 2 && length <= slice.count, "packet length out of range")
        guard let header = try? MQTTDecoder.fixedHeader(slice) else { fuzzFail("decoded packet without a header") }
        check(header.packetLength == length, "packet length differs from the fixed header")
        let lower = slice.baseAddress!
        let upper = lower + length
        func inside(_ view: UnsafeRawBufferPointer) -> Bool {
            guard view.count > 0, let base = view.baseAddress else { return true }
            return base >= lower && base + view.count <= upper
        }
        switch packet {
        case let .connack(sessionPresent, returnCode):
            check(header.firstByte == 0x20 && header.remainingLength == 2, "connack shape")
            check(returnCode <= 5, "connack code")
            check(!(sessionPresent && returnCode != 0), "connack session present with refusal")
        case let .publish(publish):
            check(header.typeNibble == 3, "publish type")
            check(inside(publish.topic) && inside(publish.payload), "publish view outside the packet")
            check(publish.topic.count > 0, "empty topic accepted")
            for byte in publish.topic {
                check(byte != 0x2B && byte != 0x23 && byte != 0, "wildcard or NUL in topic")
                checksum &+= byte
            }
            do { try UTF8Check.validate(publish.topic) } catch { fuzzFail("topic is not valid UTF-8") }
            for byte in publish.payload { checksum &+= byte }
            check(publish.qos == .atMostOnce ? publish.packetID == 0 : publish.packetID != 0, "packet id vs qos")
            check(!(publish.qos == .atMostOnce && publish.dup), "dup on qos 0")
            let overhead = 2 + publish.topic.count + (publish.qos == .atMostOnce ? 0 : 2)
            check(overhead + publish.payload.count == header.remainingLength, "publish sizes do not add up")
        case let .puback(packetID):
            check(packetID != 0 && header.remainingLength == 2, "puback shape")
        case let .suback(packetID, returnCodes):
            check(packetID != 0 && returnCodes.count == header.remainingLength - 2, "suback shape")
            check(inside(returnCodes), "suback view outside the packet")
            for code in returnCodes { check(code <= 2 || code == 0x80, "suback code") }
        case let .unsuback(packetID):
            check(packetID != 0 && header.remainingLength == 2, "unsuback shape")
        case .pingresp:
            // A non-minimal remaining length (0xD0 0x80 0x00) is accepted: MQTT 3.1.1 does not forbid it.
            check(header.firstByte == 0xD0 && header.remainingLength == 0, "pingresp shape")
        }
        offset += length
    }
    if checksum == 0x5A { offset = 0 } // keep the reads observable
}

// MARK: - Part 2: encode -> decode round trips

func roundTripPublish(_ cursor: inout FuzzCursor, into buffer: UnsafeMutableRawBufferPointer) {
    let control = cursor.byte()
    let qos: MQTTQoS = control & 0x01 != 0 ? .atLeastOnce : .atMostOnce
    let retain = control & 0x02 != 0
    let dup = control & 0x04 != 0
    let shrink = control & 0x08 != 0 // sometimes give the encoder too small a buffer
    let packetID = cursor.uint16()
    let topic = cursor.bytes(Int(cursor.byte()))
    let payload = cursor.bytes(Int(cursor.uint16()) % 1024)

    let size = MQTTEncoder.publishSize(topicLength: topic.count, payloadLength: payload.count, qos: qos)
    check(size <= buffer.count, "harness buffer too small")
    let capacity = shrink ? Int(control >> 4) % size : size
    let out = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<capacity])
    let length: Int
    do {
        length = try MQTTEncoder.publish(topic: topic, payload: payload, qos: qos, retain: retain, dup: dup,
                                         packetID: packetID, into: out)
    } catch {
        switch error {
        case .bufferTooSmall(let needed):
            check(capacity < size && needed == size, "bufferTooSmall with the wrong size")
        case .zeroPacketIdentifier:
            check(qos == .atLeastOnce && packetID == 0, "zeroPacketIdentifier without a zero id")
        case .invalidTopic, .invalidUTF8, .nullCharacter:
            // The encoder refused the topic: the decoder must refuse the same topic on the wire.
            check(!topicIsAcceptable(topic), "encoder refused a topic the decoder accepts")
        default:
            fuzzFail("unexpected encoder error for PUBLISH")
        }
        return
    }
    check(capacity >= size && length == size, "encoded PUBLISH length differs from publishSize")
    let encoded = UnsafeRawBufferPointer(rebasing: buffer[0..<length])

    // Every strict prefix must be "need more bytes", never an error or a packet.
    var prefix = 0
    while prefix < length {
        do {
            if try MQTTDecoder.decode(UnsafeRawBufferPointer(rebasing: encoded[0..<prefix])) != nil {
                fuzzFail("decoded a packet from a strict prefix")
            }
        } catch {
            fuzzFail("decode threw on a strict prefix of a valid PUBLISH")
        }
        prefix += prefix < 8 ? 1 : max(1, (length - prefix) / 2)
    }

    let decoded: (packet: MQTTInboundPacket, length: Int)?
    do { decoded = try MQTTDecoder.decode(encoded) } catch { fuzzFail("decoder rejected an encoded PUBLISH") }
    guard let (packet, used) = decoded else { fuzzFail("decoder wants more bytes for a whole PUBLISH") }
    check(used == length, "decoded length differs")
    guard case let .publish(publish) = packet else { fuzzFail("PUBLISH decoded as another packet") }
    check(sameBytes(publish.topic, topic), "topic mismatch")
    check(sameBytes(publish.payload, payload), "payload mismatch")
    check(publish.qos == qos, "qos mismatch")
    check(publish.retain == retain, "retain mismatch")
    check(publish.dup == (dup && qos == .atLeastOnce), "dup mismatch")
    check(publish.packetID == (qos == .atLeastOnce ? packetID : 0), "packet id mismatch")
}

/// Whether the decoder accepts `topic` in a QoS 0 PUBLISH built by hand.
func topicIsAcceptable(_ topic: UnsafeRawBufferPointer) -> Bool {
    let bodyLength = 2 + topic.count
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 3 + bodyLength, alignment: 1)
    defer { buffer.deallocate() }
    buffer[0] = 0x30
    var index = 1
    var value = bodyLength
    repeat {
        var digit = UInt8(value & 0x7F)
        value >>= 7
        if value > 0 { digit |= 0x80 }
        buffer[index] = digit
        index += 1
    } while value > 0
    buffer[index] = UInt8(topic.count >> 8)
    buffer[index + 1] = UInt8(topic.count & 0xFF)
    index += 2
    for byte in topic { buffer[index] = byte; index += 1 }
    do {
        guard let (packet, used) = try MQTTDecoder.decode(UnsafeRawBufferPointer(rebasing: buffer[0..<index])) else {
            fuzzFail("hand-built PUBLISH incomplete")
        }
        check(used == index, "hand-built PUBLISH length")
        guard case .publish = packet else { fuzzFail("hand-built PUBLISH decoded as another packet") }
        return true
    } catch {
        return false
    }
}

/// Splits fuzz bytes into up to four topic filters at 0x00 separators (NUL never appears in
/// a valid filter, so this loses nothing interesting).
func splitFilters(_ bytes: UnsafeRawBufferPointer, into filters: inout [UnsafeRawBufferPointer]) {
    var start = 0
    for index in 0..<bytes.count where bytes[index] == 0 && filters.count < 3 {
        filters.append(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        start = index + 1
    }
    filters.append(UnsafeRawBufferPointer(rebasing: bytes[start..<bytes.count]))
}

func roundTripSubscribe(_ cursor: inout FuzzCursor, into buffer: UnsafeMutableRawBufferPointer) {
    let control = cursor.byte()
    let packetID = cursor.uint16()
    var filters: [UnsafeRawBufferPointer] = []
    splitFilters(cursor.bytes(Int(cursor.byte())), into: &filters)
    var subscriptions: [MQTTSubscription] = []
    for (index, filter) in filters.enumerated() {
        subscriptions.append(MQTTSubscription(filter: filter, qos: control >> index & 1 == 1 ? .atLeastOnce : .atMostOnce))
    }

    let length: Int
    do {
        length = try subscriptions.withUnsafeBufferPointer { subs throws(MQTTCodecError) in
            try MQTTEncoder.subscribe(packetID: packetID, subs, into: buffer)
        }
    } catch {
        switch error {
        case .zeroPacketIdentifier: check(packetID == 0, "zeroPacketIdentifier without a zero id")
        case .invalidTopic, .invalidUTF8, .nullCharacter:
            check(filters.contains { !filterLooksValid($0) }, "encoder refused valid filters")
        default: fuzzFail("unexpected encoder error for SUBSCRIBE")
        }
        return
    }
    for filter in filters { check(filterLooksValid(filter), "encoder accepted an invalid filter") }
    let encoded = UnsafeRawBufferPointer(rebasing: buffer[0..<length])
    // A client never receives SUBSCRIBE: the decoder must refuse it by type.
    do {
        _ = try MQTTDecoder.decode(encoded)
        fuzzFail("decoder accepted a SUBSCRIBE")
    } catch {
        check(error == .unexpectedPacketType(8), "SUBSCRIBE refused for the wrong reason")
    }
    guard let header = try? MQTTDecoder.fixedHeader(encoded) else { fuzzFail("SUBSCRIBE header unreadable") }
    check(header.firstByte == 0x82 && header.packetLength == length, "SUBSCRIBE fixed header")
    var reader = PacketReader(UnsafeRawBufferPointer(rebasing: encoded[header.headerLength...]))
    do {
        check(try reader.uint16() == packetID, "SUBSCRIBE packet id")
        for subscription in subscriptions {
            check(sameBytes(try reader.string(), subscription.filter), "SUBSCRIBE filter mismatch")
            check(try reader.byte() == subscription.qos.rawValue, "SUBSCRIBE qos mismatch")
        }
    } catch {
        fuzzFail("SUBSCRIBE body unreadable")
    }
    check(reader.remaining == 0, "SUBSCRIBE trailing bytes")
}

func roundTripUnsubscribe(_ cursor: inout FuzzCursor, into buffer: UnsafeMutableRawBufferPointer) {
    let packetID = cursor.uint16()
    var filters: [UnsafeRawBufferPointer] = []
    splitFilters(cursor.bytes(Int(cursor.byte())), into: &filters)
    let length: Int
    do {
        length = try filters.withUnsafeBufferPointer { list throws(MQTTCodecError) in
            try MQTTEncoder.unsubscribe(packetID: packetID, list, into: buffer)
        }
    } catch {
        switch error {
        case .zeroPacketIdentifier: check(packetID == 0, "zeroPacketIdentifier without a zero id")
        case .invalidTopic, .invalidUTF8, .nullCharacter:
            check(filters.contains { !filterLooksValid($0) }, "encoder refused valid filters")
        default: fuzzFail("unexpected encoder error for UNSUBSCRIBE")
        }
        return
    }
    let encoded = UnsafeRawBufferPointer(rebasing: buffer[0..<length])
    guard let header = try? MQTTDecoder.fixedHeader(encoded) else { fuzzFail("UNSUBSCRIBE header unreadable") }
    check(header.firstByte == 0xA2 && header.packetLength == length, "UNSUBSCRIBE fixed header")
    var reader = PacketReader(UnsafeRawBufferPointer(rebasing: encoded[header.headerLength...]))
    do {
        check(try reader.uint16() == packetID, "UNSUBSCRIBE packet id")
        for filter in filters { check(sameBytes(try reader.string(), filter), "UNSUBSCRIBE filter mismatch") }
    } catch {
        fuzzFail("UNSUBSCRIBE body unreadable")
    }
    check(reader.remaining == 0, "UNSUBSCRIBE trailing bytes")
}

/// Independent reference for §4.7.1 topic-filter rules (+ UTF-8 via UTF8Check).
func filterLooksValid(_ filter: UnsafeRawBufferPointer) -> Bool {
    guard filter.count > 0 else { return false }
    do { try UTF8Check.validate(filter) } catch { return false }
    // Walk the levels between '/' separators.
    var levelStart = 0
    var index = 0
    while index <= filter.count {
        if index == filter.count || filter[index] == 0x2F {
            let level = UnsafeRawBufferPointer(rebasing: filter[levelStart..<index])
            let hasWildcard = level.contains { $0 == 0x2B || $0 == 0x23 }
            if hasWildcard {
                guard level.count == 1 else { return false }
                if level[0] == 0x23, index != filter.count { return false }
            }
            levelStart = index + 1
        }
        index += 1
    }
    return true
}

// MARK: - Entry

let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 70_000, alignment: 16)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    decodeStream(input)

    var cursor = FuzzCursor(data: input)
    let selector = cursor.byte()
    switch selector % 3 {
    case 0: roundTripPublish(&cursor, into: scratch)
    case 1: roundTripSubscribe(&cursor, into: scratch)
    default: roundTripUnsubscribe(&cursor, into: scratch)
    }
    return 0
}
