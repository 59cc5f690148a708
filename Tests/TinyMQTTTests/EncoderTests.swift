import Testing
import TinyBytes
@testable import TinyMQTT

@Suite struct EncoderTests {
    @Test func remainingLengthUsesTheSpecBoundaries() throws {
        // MQTT 3.1.1 §2.2.3, Table 2.4: the 1..4-byte boundaries.
        let cases: [(Int, [UInt8])] = [
            (0, [0x00]), (127, [0x7F]), (128, [0x80, 0x01]), (16_383, [0xFF, 0x7F]),
            (16_384, [0x80, 0x80, 0x01]), (2_097_151, [0xFF, 0xFF, 0x7F]),
            (2_097_152, [0x80, 0x80, 0x80, 0x01]), (268_435_455, [0xFF, 0xFF, 0xFF, 0x7F]),
        ]
        for (value, expected) in cases {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 268_435_460, alignment: 1)
            defer { buffer.deallocate() }
            var writer = ByteSink(buffer)
            try writer.beginPacket(firstByte: 0x30, remainingLength: value)
            #expect(Array(buffer[1..<writer.count]) == expected, "remaining length \(value)")
            let header = try MQTTDecoder.fixedHeader(UnsafeRawBufferPointer(rebasing: buffer[0..<writer.count]))
            #expect(header?.remainingLength == value)
            #expect(header?.headerLength == 1 + expected.count)
        }
    }

    @Test func connectMatchesSpecVariableHeaderExample() throws {
        // §3.1.2.10 Figure 3.6: "MQTT", level 4, flags 0xCE (user, password, will QoS 1, clean), keep-alive 10.
        let id = utf8("c1"), user = utf8("u"), pass = utf8("p"), wt = utf8("w/t"), wp = utf8("bye")
        let packet = try id.withUnsafeBytes { i in try user.withUnsafeBytes { u in try pass.withUnsafeBytes { p in
            try wt.withUnsafeBytes { t in try wp.withUnsafeBytes { w in
                try TestBytes.encode { (buffer) throws(MQTTCodecError) -> Int in
                    try MQTTEncoder.connect(MQTTConnectOptions(clientID: i, username: u, password: p,
                        will: MQTTWill(topic: t, payload: w, qos: .atLeastOnce), cleanSession: true, keepAliveSeconds: 10), into: buffer)
                }
            } }
        } } }
        let variableHeader: [UInt8] = [0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0xCE, 0x00, 0x0A]
        #expect(packet[0] == 0x10)
        #expect(Array(packet[2..<12]) == variableHeader)
        let payload: [UInt8] = [0, 2] + id + [0, 3] + wt + [0, 3] + wp + [0, 1] + user + [0, 1] + pass
        #expect(Array(packet[12...]) == payload)
        #expect(Int(packet[1]) == packet.count - 2)
    }

    /// CONNECT with only a client id, as the encoder writes it.
    func connectPacket(_ id: [UInt8], cleanSession: Bool, keepAliveSeconds: UInt16) throws -> [UInt8] {
        try id.withUnsafeBytes { i in
            try TestBytes.encode { (b) throws(MQTTCodecError) -> Int in
                try MQTTEncoder.connect(MQTTConnectOptions(clientID: i, cleanSession: cleanSession, keepAliveSeconds: keepAliveSeconds), into: b)
            }
        }
    }

    @Test func connectMinimalPersistentSession() throws {
        let id = utf8("dev")
        let packet = try connectPacket(id, cleanSession: false, keepAliveSeconds: 240)
        #expect(packet == [0x10, 15, 0, 4, 0x4D, 0x51, 0x54, 0x54, 4, 0x00, 0x00, 0xF0, 0, 3] + id)
    }

    @Test func connectWritesTheKeepAliveBigEndian() throws {
        let id = utf8("d")
        let packet = try connectPacket(id, cleanSession: true, keepAliveSeconds: 0x12AB)
        #expect(packet == [0x10, 13, 0, 4, 0x4D, 0x51, 0x54, 0x54, 4, 0x02, 0x12, 0xAB, 0, 1] + id)
    }

    @Test func connectIntoAShortBufferThrowsAndWritesNothing() {
        let id = utf8("dev")
        for size in 0..<17 { // the packet is 17 bytes
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 1)
            defer { buffer.deallocate() }
            buffer.initializeMemory(as: UInt8.self, repeating: 0xEE)
            let short = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size])
            let error = id.withUnsafeBytes { i -> MQTTCodecError? in
                do throws(MQTTCodecError) {
                    _ = try MQTTEncoder.connect(MQTTConnectOptions(clientID: i, keepAliveSeconds: 60), into: short)
                    return nil
                } catch { return error }
            }
            #expect(error == .bufferTooSmall(needed: 17), "buffer of \(size)")
            #expect(buffer.allSatisfy { $0 == 0xEE }, "buffer of \(size)")
        }
    }

    @Test func pubackIntoAShortBufferThrowsAndWritesNothing() {
        for size in 0..<4 {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4, alignment: 1)
            defer { buffer.deallocate() }
            buffer.initializeMemory(as: UInt8.self, repeating: 0xEE)
            #expect(throws: MQTTCodecError.bufferTooSmall(needed: 4), "buffer of \(size)") {
                _ = try MQTTEncoder.puback(packetID: 0x1234, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size]))
            }
            #expect(buffer.allSatisfy { $0 == 0xEE })
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4, alignment: 1)
        defer { buffer.deallocate() }
        #expect(throws: MQTTCodecError.zeroPacketIdentifier) { _ = try MQTTEncoder.puback(packetID: 0, into: buffer) }
        #expect((try? MQTTEncoder.puback(packetID: 0xABCD, into: buffer)) == 4)
        #expect(Array(buffer) == [0x40, 2, 0xAB, 0xCD])
    }

    @Test func passwordWithoutUsernameIsRejected() {
        let id = utf8("d"), pass = utf8("p")
        #expect(throws: MQTTCodecError.invalidFlags(packetType: 1)) {
            try id.withUnsafeBytes { i in try pass.withUnsafeBytes { p in
                try TestBytes.encode { (b) throws(MQTTCodecError) -> Int in
                    try MQTTEncoder.connect(MQTTConnectOptions(clientID: i, password: p), into: b)
                }
            } }
        }
    }

    @Test func publishMatchesSpecExample() throws {
        // §3.3.2.3 Figure 3.11: topic "a/b", packet identifier 10.
        let topic = utf8("a/b"), payload = utf8("hi")
        let packet = try topic.withUnsafeBytes { t in try payload.withUnsafeBytes { p in
            try TestBytes.encode { (b) throws(MQTTCodecError) -> Int in
                try MQTTEncoder.publish(topic: t, payload: p, qos: .atLeastOnce, packetID: 10, into: b)
            }
        } }
        #expect(packet == [0x32, 9, 0x00, 0x03, 0x61, 0x2F, 0x62, 0x00, 0x0A, 0x68, 0x69])
    }

    @Test func publishFlags() throws {
        let topic = utf8("t"), payload: [UInt8] = []
        let qos0 = try topic.withUnsafeBytes { t in try payload.withUnsafeBytes { p in
            try TestBytes.encode { (b) throws(MQTTCodecError) -> Int in
                try MQTTEncoder.publish(topic: t, payload: p, qos: .atMostOnce, retain: true, dup: true, into: b)
            }
        } }
        #expect(qos0 == [0x31, 3, 0, 1, 0x74], "DUP is never set on QoS 0 (§3.3.1.1)")
        let dup1 = try topic.withUnsafeBytes { t in try payload.withUnsafeBytes { p in
            try TestBytes.encode { (b) throws(MQTTCodecError) -> Int in
                try MQTTEncoder.publish(topic: t, payload: p, qos: .atLeastOnce, dup: true, packetID: 0x0102, into: b)
            }
        } }
        #expect(dup1 == [0x3A, 5, 0, 1, 0x74, 1, 2])
        #expect(MQTTEncoder.publishSize(topicLength: 1, payloadLength: 0, qos: .atLeastOnce) == dup1.count)
    }

    @Test func publishRejectsBadTopicsAndZeroID() {
        let cases: [(String, MQTTCodecError)] = [("", .invalidTopic), ("a/+", .invalidTopic), ("a/#", .invalidTopic),
                                                  ("x\u{0}y", .nullCharacter)]
        for (bad, error) in cases {
            let topic = utf8(bad)
            #expect(throws: error) {
                try topic.withUnsafeBytes { t in
                    try TestBytes.encode { (b) throws(MQTTCodecError) -> Int in
                        try MQTTEncoder.publish(topic: t, payload: t, qos: .atMostOnce, into: b)
                    }
                }
            }
        }
        let topic = utf8("ok")
        #expect(throws: MQTTCodecError.zeroPacketIdentifier) {
            try topic.withUnsafeBytes { t in
                try TestBytes.encode { (b) throws(MQTTCodecError) -> Int in
                    try MQTTEncoder.publish(topic: t, payload: t, qos: .atLeastOnce, packetID: 0, into: b)
                }
            }
        }
    }

    @Test func publishTooLargeForBufferThrowsBeforeWriting() throws {
        let topic = utf8("t"), payload = [UInt8](repeating: 7, count: 100)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 50, alignment: 1)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0xEE)
        #expect(throws: MQTTCodecError.bufferTooSmall(needed: 107)) {
            try topic.withUnsafeBytes { t in try payload.withUnsafeBytes { p in
                _ = try MQTTEncoder.publish(topic: t, payload: p, qos: .atLeastOnce, packetID: 1, into: buffer)
            } }
        }
        #expect(buffer.allSatisfy { $0 == 0xEE })
    }

    @Test func subscribeSeveralFilters() throws {
        let a = utf8("a/b"), c = utf8("c/#")
        let packet = try a.withUnsafeBytes { ab in try c.withUnsafeBytes { cd in
            let subs = [MQTTSubscription(filter: ab, qos: .atLeastOnce), MQTTSubscription(filter: cd, qos: .atMostOnce)]
            return try subs.withUnsafeBufferPointer { list in
                try TestBytes.encode { (b) throws(MQTTCodecError) -> Int in try MQTTEncoder.subscribe(packetID: 10, list, into: b) }
            }
        } }
        #expect(packet == [0x82, 14, 0, 10, 0, 3, 0x61, 0x2F, 0x62, 1, 0, 3, 0x63, 0x2F, 0x23, 0])
    }

    @Test func subscribeValidatesFilters() {
        for bad in ["a/#/b", "a+/b", "#a", ""] {
            let filter = utf8(bad)
            #expect(throws: MQTTCodecError.invalidTopic, "\(bad)") {
                try filter.withUnsafeBytes { f in
                    let subs = [MQTTSubscription(filter: f, qos: .atLeastOnce)]
                    return try subs.withUnsafeBufferPointer { list in
                        try TestBytes.encode { (b) throws(MQTTCodecError) -> Int in try MQTTEncoder.subscribe(packetID: 1, list, into: b) }
                    }
                }
            }
        }
        #expect(throws: MQTTCodecError.noTopicFilters) {
            try TestBytes.encode { (b) throws(MQTTCodecError) -> Int in
                try MQTTEncoder.subscribe(packetID: 1, UnsafeBufferPointer(start: nil, count: 0), into: b)
            }
        }
    }

    @Test func unsubscribePingDisconnectPuback() throws {
        let f = utf8("x/+")
        let unsub = try f.withUnsafeBytes { raw in
            try [raw].withUnsafeBufferPointer { list in
                try TestBytes.encode { (b) throws(MQTTCodecError) -> Int in try MQTTEncoder.unsubscribe(packetID: 0x1234, list, into: b) }
            }
        }
        #expect(unsub == [0xA2, 7, 0x12, 0x34, 0, 3, 0x78, 0x2F, 0x2B])
        #expect(try TestBytes.encode { (b) throws(MQTTCodecError) -> Int in try MQTTEncoder.pingreq(into: b) } == [0xC0, 0])
        #expect(try TestBytes.encode { (b) throws(MQTTCodecError) -> Int in try MQTTEncoder.disconnect(into: b) } == [0xE0, 0])
        #expect(try TestBytes.encode { (b) throws(MQTTCodecError) -> Int in try MQTTEncoder.puback(packetID: 7, into: b) } == [0x40, 2, 0, 7])
    }
}
