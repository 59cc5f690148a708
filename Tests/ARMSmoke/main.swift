// ARM smoke test: Embedded Swift, no Foundation. Built by scripts/build/cross-arm.sh for armv7 (armhf)
// and aarch64 together with the library modules and run under qemu-user. Also builds for the
// host. Checks the MQTT codec, a SAS token vector, topic building and the TLS client setup;
// prints "N passed, 0 failed" and exits non-zero on any failure. Other files of this folder hold
// checks of one part each (Outbox.swift, Provisioning.swift, WebSocket.swift), called from here.
//
// No `String ==` (it pulls in Unicode tables, tagged soft-float on armv7): bytes are compared
// against StaticStrings.
import TinyHub
import TinyMQTT
import TinyPlatform
import TinyTLS

var passed = 0
var failed = 0

func check(_ ok: Bool, _ name: StaticString) {
    if ok {
        passed += 1
        Console.write("ok   ")
    } else {
        failed += 1
        Console.write("FAIL ")
    }
    Console.write(name)
    Console.write("\n")
}

func bytes(_ text: StaticString) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
}

func same(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    a.count == b.count && a.elementsEqual(b)
}

func same(_ a: UnsafeRawBufferPointer, _ expected: [UInt8]) -> Bool {
    a.count == expected.count && a.elementsEqual(expected)
}

func same(_ a: UnsafeRawBufferPointer, _ expected: StaticString) -> Bool { same(a, bytes(expected)) }

/// Decodes `packet`; nil when the decoder throws or wants more bytes.
func decoded(_ packet: [UInt8]) -> MQTTInboundPacket? {
    packet.withUnsafeBytes { raw -> MQTTInboundPacket? in
        do throws(MQTTCodecError) {
            return try MQTTDecoder.decode(raw)?.packet
        } catch {
            return nil
        }
    }
}

/// The error the decoder throws for `packet` (nil when it does not throw).
func decodeError(_ packet: [UInt8]) -> MQTTCodecError? {
    packet.withUnsafeBytes { raw -> MQTTCodecError? in
        do throws(MQTTCodecError) {
            _ = try MQTTDecoder.decode(raw)
            return nil
        } catch {
            return error
        }
    }
}

let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 512, alignment: 8)
defer { buffer.deallocate() }
func written(_ count: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer[0..<count]) }

// MARK: - MQTT encode

do throws(MQTTCodecError) {
    let options = MQTTConnectOptions(clientID: bytes("abc"), cleanSession: true, keepAliveSeconds: 30)
    let n = try MQTTEncoder.connect(options, into: buffer)
    check(same(written(n), [0x10, 0x0F, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x1E,
                            0x00, 0x03, 0x61, 0x62, 0x63]), "encode CONNECT (clean session, keep-alive 30, client id abc)")
} catch {
    check(false, "encode CONNECT threw")
}

var encodedPublish: [UInt8] = []
do throws(MQTTCodecError) {
    let n = try MQTTEncoder.publish(topic: bytes("a/b"), payload: bytes("hi"), qos: .atLeastOnce, packetID: 7, into: buffer)
    check(same(written(n), [0x32, 0x09, 0x00, 0x03, 0x61, 0x2F, 0x62, 0x00, 0x07, 0x68, 0x69]), "encode PUBLISH QoS 1")
    encodedPublish = Array(written(n))
} catch {
    check(false, "encode PUBLISH threw")
}

do throws(MQTTCodecError) {
    var subscription = MQTTSubscription(filter: bytes("a/#"), qos: .atLeastOnce)
    let n = try withUnsafePointer(to: &subscription) { (pointer) throws(MQTTCodecError) -> Int in
        try MQTTEncoder.subscribe(packetID: 1, UnsafeBufferPointer(start: pointer, count: 1), into: buffer)
    }
    check(same(written(n), [0x82, 0x08, 0x00, 0x01, 0x00, 0x03, 0x61, 0x2F, 0x23, 0x01]), "encode SUBSCRIBE")
} catch {
    check(false, "encode SUBSCRIBE threw")
}

do throws(MQTTCodecError) {
    _ = try MQTTEncoder.publish(topic: bytes("a/+"), payload: bytes("x"), qos: .atMostOnce, into: buffer)
    check(false, "PUBLISH to a wildcard topic rejected")
} catch {
    check(error == .invalidTopic, "PUBLISH to a wildcard topic rejected")
}

do throws(MQTTCodecError) {
    let small = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<8])
    _ = try MQTTEncoder.publish(topic: bytes("a/b"), payload: bytes("0123456789"), qos: .atLeastOnce, packetID: 1, into: small)
    check(false, "PUBLISH larger than the buffer rejected")
} catch {
    check(error == .bufferTooSmall(needed: 19), "PUBLISH larger than the buffer rejected")
}

// MARK: - MQTT decode

if case .connack(let present, let code)? = decoded([0x20, 0x02, 0x00, 0x00]) {
    check(!present && code == 0, "decode CONNACK accepted")
} else {
    check(false, "decode CONNACK accepted")
}
if case .connack(let present, let code)? = decoded([0x20, 0x02, 0x01, 0x00]) {
    check(present && code == 0, "decode CONNACK session present")
} else {
    check(false, "decode CONNACK session present")
}

let publishRoundTrip = encodedPublish.withUnsafeBytes { raw -> Bool in
    do throws(MQTTCodecError) {
        guard let (packet, length) = try MQTTDecoder.decode(raw), length == raw.count,
              case .publish(let p) = packet else { return false }
        return same(p.topic, "a/b") && same(p.payload, "hi") && p.qos == .atLeastOnce && p.packetID == 7 && !p.dup && !p.retain
    } catch {
        return false
    }
}
check(publishRoundTrip, "decode PUBLISH (round trip of the encoded one)")

let subackCodes = [UInt8](arrayLiteral: 0x90, 0x04, 0x00, 0x01, 0x01, 0x80).withUnsafeBytes { raw -> Bool in
    do throws(MQTTCodecError) {
        guard let (packet, _) = try MQTTDecoder.decode(raw), case .suback(let id, let codes) = packet else { return false }
        return id == 1 && same(codes, [0x01, 0x80])
    } catch {
        return false
    }
}
check(subackCodes, "decode SUBACK (granted QoS 1, refused)")

check(decoded([0x32, 0x09, 0x00, 0x03, 0x61]) == nil && decodeError([0x32, 0x09, 0x00, 0x03, 0x61]) == nil,
      "partial packet waits for more bytes")
check(decodeError([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]) == .malformedRemainingLength, "malformed: 5-byte remaining length")
check(decodeError([0x21, 0x02, 0x00, 0x00]) == .invalidFlags(packetType: 2), "malformed: CONNACK with flags")
check(decodeError([0x20, 0x02, 0x00, 0x06]) == .invalidConnack, "malformed: CONNACK return code 6")
check(decodeError([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01]) == .invalidQoS, "malformed: PUBLISH QoS 3")
check(decodeError([0x32, 0x05, 0x00, 0x01, 0x61, 0x00, 0x00]) == .zeroPacketIdentifier, "malformed: PUBLISH packet id 0")
check(decodeError([0x30, 0x03, 0x00, 0x01, 0x23]) == .invalidTopic, "malformed: PUBLISH to '#'")
check(decodeError([0x30, 0x03, 0x00, 0x05, 0x61]) == .truncated, "malformed: topic length past the packet")
check(decodeError([0x90, 0x03, 0x00, 0x01, 0x03]) == .invalidSubackReturnCode(3), "malformed: SUBACK return code 3")
check(decodeError([0x40, 0x03, 0x00, 0x01, 0x00]) == .invalidLength(packetType: 4), "malformed: PUBACK of 3 bytes")
check(decodeError([0x50, 0x02, 0x00, 0x01]) == .qos2NotSupported, "malformed: PUBREC (QoS 2) refused")
check(decodeError([0x00, 0x00]) == .unexpectedPacketType(0), "malformed: packet type 0")

// MARK: - IoT Hub: SAS token and topics

do throws(SASTokenError) {
    // Vector from Tests/TinyHubTests/SASTokenTests.swift (independent Python implementation).
    let n = try SASToken.write(host: bytes("myhub.azure-devices.net"), deviceID: bytes("dev1"),
                               key: bytes("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="), expiry: 1_700_000_000, crypto: MbedTLSCrypto(), into: buffer)
    check(same(written(n), "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=wosmA3uJK9T0mdB5CIYn%2BsAVA2ODflnucuvNO5S6mbM%3D&se=1700000000"),
          "SAS token (HMAC-SHA256 + Base64 + percent-encoding) matches the Python vector")
} catch {
    check(false, "SAS token threw")
}

do throws(TopicError) {
    let n = try HubTopics.telemetry(deviceID: bytes("dev1"), into: buffer)
    check(same(written(n), "devices/dev1/messages/events/"), "telemetry topic")
    let m = try HubTopics.telemetry(deviceID: bytes("dev1"), moduleID: bytes("mod-a"), properties: bytes("a=1&b=2"), into: buffer)
    check(same(written(m), "devices/dev1/modules/mod-a/messages/events/a=1&b=2"), "module telemetry topic with properties")
    let c = try HubTopics.cloudToDeviceFilter(deviceID: bytes("dev1"), into: buffer)
    check(same(written(c), "devices/dev1/messages/devicebound/#"), "cloud-to-device filter")
} catch {
    check(false, "topic building threw")
}

do throws(TopicError) {
    _ = try HubTopics.telemetry(deviceID: bytes("dev/1"), into: buffer)
    check(false, "device id with '/' rejected in a topic")
} catch {
    check(error == .invalidIdentifier, "device id with '/' rejected in a topic")
}

// MARK: - TLS client setup

do throws(TransportError) {
    let transport = try TLSTransport(TLSConfiguration(host: "example.azure-devices.net", port: 8883))
    check(!transport.isOpen, "TLS client set up with the built-in Azure roots (DRBG seeded, roots parsed)")
} catch {
    check(false, "TLS client set up with the built-in Azure roots (DRBG seeded, roots parsed)")
}

// MARK: - Outbox records (Outbox.swift)

outboxSmoke(check)

// MARK: - Provisioning (Provisioning.swift)

provisioningSmoke(check)

// MARK: - WebSocket framing and transport (WebSocket.swift)

webSocketSmoke(check)

Console.write(int: Int64(passed))
Console.write(" passed, ")
Console.write(int: Int64(failed))
Console.write(" failed\n")
Console.exit(failed == 0 ? 0 : 1)
