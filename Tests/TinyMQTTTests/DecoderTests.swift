import Testing
@testable import TinyMQTT

@Suite struct DecoderTests {
    @Test func connack() throws {
        guard case .connack(let present, let code)? = try TestBytes.decode([0x20, 2, 1, 0]) else { Issue.record("not a connack"); return }
        #expect(present)
        #expect(code == 0)
        guard case .connack(false, 5)? = try TestBytes.decode([0x20, 2, 0, 5]) else { Issue.record("refusal"); return }
    }

    @Test func publishQoS0And1() throws {
        guard case .publish(let p0)? = try TestBytes.decode([0x31, 5, 0, 3, 0x61, 0x2F, 0x62]) else { Issue.record("qos0"); return }
        #expect(p0.topic.array == utf8("a/b"))
        #expect(p0.payload.count == 0)
        #expect(p0.qos == .atMostOnce && p0.retain && !p0.dup && p0.packetID == 0)
        guard case .publish(let p1)? = try TestBytes.decode([0x3A, 8, 0, 1, 0x74, 0, 10, 0x68, 0x69, 0x21]) else { Issue.record("qos1"); return }
        #expect(p1.topic.array == utf8("t"))
        #expect(p1.payload.array == utf8("hi!"))
        #expect(p1.qos == .atLeastOnce && p1.dup && !p1.retain && p1.packetID == 10)
    }

    @Test func specUTF8ExampleIsAccepted() throws {
        // §1.5.3.1 Figure 1.1: "A" followed by U+2A6D4 = 0x41 0xF0 0xAA 0x9B 0x94.
        guard case .publish(let p)? = try TestBytes.decode([0x30, 7, 0, 5, 0x41, 0xF0, 0xAA, 0x9B, 0x94]) else {
            Issue.record("not decoded"); return
        }
        #expect(p.topic.array == [0x41, 0xF0, 0xAA, 0x9B, 0x94])
    }

    @Test func acksAndPing() throws {
        guard case .puback(0x0102)? = try TestBytes.decode([0x40, 2, 1, 2]) else { Issue.record("puback"); return }
        guard case .unsuback(9)? = try TestBytes.decode([0xB0, 2, 0, 9]) else { Issue.record("unsuback"); return }
        guard case .pingresp? = try TestBytes.decode([0xD0, 0]) else { Issue.record("pingresp"); return }
        guard case .suback(let id, let codes)? = try TestBytes.decode([0x90, 5, 0, 3, 0, 1, 0x80]) else { Issue.record("suback"); return }
        #expect(id == 3)
        #expect(codes.array == [0, 1, 0x80])
    }

    @Test func incompleteInputAsksForMore() throws {
        let full: [UInt8] = [0x3A, 8, 0, 1, 0x74, 0, 10, 0x68, 0x69, 0x21]
        for cut in 0..<full.count {
            #expect(try TestBytes.decode(Array(full[0..<cut])) == nil, "prefix \(cut)")
        }
        #expect(try TestBytes.decode([0x30, 0x80, 0x80]) == nil, "remaining length still open")
    }

    @Test(arguments: [
        // (bytes, expected error, what)
        ([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], MQTTCodecError.malformedRemainingLength, "5-byte remaining length"),
        ([0x20, 2, 0x02, 0], .invalidConnack, "reserved CONNACK flag"),
        ([0x20, 2, 0, 6], .invalidConnack, "CONNACK code 6"),
        ([0x20, 2, 1, 5], .invalidConnack, "session present with refusal"),
        ([0x21, 2, 0, 0], .invalidFlags(packetType: 2), "CONNACK flags"),
        ([0x20, 3, 0, 0, 0], .invalidLength(packetType: 2), "CONNACK too long"),
        ([0x36, 5, 0, 1, 0x74, 0, 1], .invalidQoS, "QoS 3"),
        ([0x34, 5, 0, 1, 0x74, 0, 1], .qos2NotSupported, "QoS 2 publish"),
        ([0x38, 3, 0, 1, 0x74], .invalidFlags(packetType: 3), "DUP on QoS 0"),
        ([0x32, 5, 0, 1, 0x74, 0, 0], .zeroPacketIdentifier, "packet id 0"),
        ([0x32, 3, 0, 1, 0x74], .truncated, "QoS 1 without id"),
        ([0x30, 3, 0, 9, 0x74], .truncated, "topic length past the packet"),
        ([0x30, 2, 0, 0], .invalidTopic, "empty topic"),
        ([0x30, 4, 0, 2, 0x61, 0x23], .invalidTopic, "wildcard in topic"),
        ([0x30, 4, 0, 2, 0x61, 0x00], .nullCharacter, "U+0000"),
        ([0x30, 4, 0, 2, 0xC0, 0x80], .invalidUTF8, "overlong NUL"),
        ([0x30, 5, 0, 3, 0xED, 0xA0, 0x80], .invalidUTF8, "surrogate"),
        ([0x30, 6, 0, 4, 0xF4, 0x90, 0x80, 0x80], .invalidUTF8, "above U+10FFFF"),
        ([0x30, 4, 0, 2, 0xE2, 0x82], .invalidUTF8, "truncated sequence"),
        ([0x30, 3, 0, 1, 0xFF], .invalidUTF8, "0xFF"),
        ([0x40, 2, 0, 0], .zeroPacketIdentifier, "PUBACK id 0"),
        ([0x40, 3, 0, 1, 2], .invalidLength(packetType: 4), "PUBACK too long"),
        ([0x42, 2, 0, 1], .invalidFlags(packetType: 4), "PUBACK flags"),
        ([0x90, 3, 0, 1, 3], .invalidSubackReturnCode(3), "SUBACK code 3"),
        ([0x90, 2, 0, 1], .invalidLength(packetType: 9), "SUBACK without codes"),
        ([0xD0, 1, 0], .invalidLength(packetType: 13), "PINGRESP with body"),
        ([0x50, 2, 0, 1], .qos2NotSupported, "PUBREC"),
        ([0x62, 2, 0, 1], .qos2NotSupported, "PUBREL"),
        ([0x10, 0], .unexpectedPacketType(1), "CONNECT from the server"),
        ([0x82, 0], .unexpectedPacketType(8), "SUBSCRIBE from the server"),
        ([0x00, 0], .unexpectedPacketType(0), "reserved type 0"),
        ([0xF0, 0], .unexpectedPacketType(15), "reserved type 15"),
    ] as [([UInt8], MQTTCodecError, String)])
    func malformedInputIsATypedError(bytes: [UInt8], expected: MQTTCodecError, what: String) {
        #expect(TestBytes.decodeError(bytes) == expected, "\(what)")
    }

    @Test func decodeNeverReadsPastTheSlice() throws {
        // A PUBLISH whose topic length claims bytes that exist in memory after the packet.
        let memory: [UInt8] = [0x30, 3, 0, 5, 0x61, 0x62, 0x63, 0x64, 0x65]
        try memory.withUnsafeBytes { all in
            let header = try #require(try MQTTDecoder.fixedHeader(all))
            let body = UnsafeRawBufferPointer(rebasing: all[2..<5])
            #expect(throws: MQTTCodecError.truncated) { _ = try MQTTDecoder.decode(header: header, body: body) }
        }
    }
}

/// The word-at-a-time fast paths of `UTF8Check` against byte-by-byte references.
@Suite struct UTF8FastPathTests {
    static func referencePlain(_ bytes: [UInt8]) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy { $0 >= 0x01 && $0 <= 0x7F && $0 != 0x2B && $0 != 0x23 }
    }

    @Test func plainTopicNameMatchesByteCheckAtEveryPosition() {
        for length in 0...40 {
            let base = (0..<length).map { UInt8(0x61 + $0 % 26) }
            #expect(base.withUnsafeBytes { UTF8Check.isPlainTopicName($0) } == (length > 0), "length \(length)")
            for position in 0..<length {
                for special: UInt8 in [0x00, 0x01, 0x23, 0x2B, 0x2F, 0x7F, 0x80, 0xC3, 0xFF] {
                    var bytes = base
                    bytes[position] = special
                    let fast = bytes.withUnsafeBytes { UTF8Check.isPlainTopicName($0) }
                    #expect(fast == Self.referencePlain(bytes), "length \(length), \(special) at \(position)")
                }
            }
        }
    }

    /// The error `validate` throws for `bytes`, or nil when they are accepted.
    static func validateError(_ bytes: [UInt8]) -> MQTTCodecError? {
        bytes.withUnsafeBytes { b -> MQTTCodecError? in
            do throws(MQTTCodecError) { try UTF8Check.validate(b); return nil } catch { return error }
        }
    }

    static func decodeError(_ packet: [UInt8]) -> MQTTCodecError? {
        packet.withUnsafeBytes { b -> MQTTCodecError? in
            do throws(MQTTCodecError) { _ = try MQTTDecoder.decode(b); return nil } catch { return error }
        }
    }

    static func encodeError(topic: [UInt8]) -> MQTTCodecError? {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 1)
        defer { buffer.deallocate() }
        return topic.withUnsafeBytes { t -> MQTTCodecError? in
            do throws(MQTTCodecError) {
                _ = try MQTTEncoder.publish(topic: t, payload: UnsafeRawBufferPointer(start: nil, count: 0), qos: .atMostOnce, into: buffer)
                return nil
            } catch { return error }
        }
    }

    @Test func validateFindsBadBytesBehindAsciiWords() {
        for length in 1...40 {
            let base = (0..<length).map { UInt8(0x30 + $0 % 40) }
            #expect(Self.validateError(base) == nil)
            for position in 0..<length {
                var nul = base
                nul[position] = 0
                #expect(Self.validateError(nul) == .nullCharacter, "NUL at \(position) of \(length)")
                var high = base
                high[position] = 0xFF
                #expect(Self.validateError(high) == .invalidUTF8, "0xFF at \(position) of \(length)")
                if position + 2 <= length {
                    var twoByte = base // "é" is valid anywhere
                    twoByte[position] = 0xC3; twoByte[position + 1] = 0xA9
                    #expect(Self.validateError(twoByte) == nil, "é at \(position) of \(length)")
                    var overlong = base
                    overlong[position] = 0xC0; overlong[position + 1] = 0x80
                    #expect(Self.validateError(overlong) == .invalidUTF8, "overlong at \(position) of \(length)")
                }
            }
        }
    }

    /// `validate` accepts exactly what the standard library's UTF-8 validation accepts, minus
    /// U+0000: every lead byte 0x80...0xFF with every second byte, and for three- and four-byte
    /// leads a set of third and fourth bytes (overlong forms, surrogates, past U+10FFFF, truncations).
    @Test func validateAgreesWithTheStandardLibrary() {
        // Past the second byte only "is it 10xxxxxx" matters: its edges, ASCII and NUL.
        let tails: [UInt8] = [0x00, 0x41, 0x80, 0xBF, 0xC0]
        var mismatches: [[UInt8]] = []
        func check(_ bytes: [UInt8]) {
            let expected = String(validating: bytes, as: UTF8.self) != nil && !bytes.contains(0)
            if (Self.validateError(bytes) == nil) != expected, mismatches.count < 10 { mismatches.append(bytes) }
        }
        for lead in 0x80...0xFF {
            for second in 0...0xFF {
                let pair = [UInt8(lead), UInt8(second)]
                check(pair)
                guard lead >= 0xE0 else { continue } // two-byte leads: the pair decides
                for third in tails {
                    check(pair + [third])
                    for fourth in tails { check(pair + [third, fourth]) }
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
    }

    @Test func decoderAndEncoderKeepTheirErrorsForLongTopics() {
        // A wildcard or bad byte after more than eight plain bytes still gives the old error.
        let prefix = utf8("devices/dev1/messages/")
        let cases: [([UInt8], MQTTCodecError)] = [([0x23], .invalidTopic), ([0xFF], .invalidUTF8), ([0x00], .nullCharacter),
                                                  ([0x2B, 0xFF], .invalidUTF8)]
        for (tail, expected) in cases {
            let topic = prefix + tail
            let packet: [UInt8] = [0x30, UInt8(2 + topic.count), 0, UInt8(topic.count)] + topic
            #expect(Self.decodeError(packet) == expected, "decode \(tail)")
            // The encoder checks wildcards before UTF-8.
            let encoderExpected: MQTTCodecError = tail.contains(0x2B) || tail.contains(0x23) ? .invalidTopic : expected
            #expect(Self.encodeError(topic: topic) == encoderExpected, "encode \(tail)")
        }
        let good = utf8("devices/dév1/messages/events/")
        #expect(Self.encodeError(topic: good) == nil)
        let packet: [UInt8] = [0x30, UInt8(2 + good.count + 1), 0, UInt8(good.count)] + good + [0x41]
        let topic = packet.withUnsafeBytes { b -> [UInt8]? in
            guard case .publish(let message)?? = try? MQTTDecoder.decode(b).map({ $0.packet }) else { return nil }
            return Array(message.topic)
        }
        #expect(topic == good)
    }
}
