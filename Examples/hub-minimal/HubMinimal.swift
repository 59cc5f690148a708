import TinyHub
import TinyMQTT
import TinyPlatform
import TinyTLS

/// hub-minimal [--count N] [--size BYTES] [--qos 0|1]
///
/// The smallest telemetry program: MQTT over TLS, SAS authentication (renewed by the client),
/// reconnects with the library's backoff, a QoS 1 window of 8. No cloud-to-device messages,
/// twin, methods, clock check or HTTPS. Sends N messages `{"seq":i}` (padded with spaces to
/// `--size` bytes when that is larger) with the system properties `$.ct=application/json` and
/// `$.ce=utf-8` (so IoT Hub can route on the body) and exits 0 once the hub acknowledged all N
/// (with `--qos 0`: once all N were sent), printing `sent and acknowledged: N`. It is the
/// program of the 1 MB device profile (docs/device-profile.md) and of `scripts/bench/telemetry.sh`.
///
/// Environment: `IOTHUB_DEVICE_CONNECTION_STRING` (required), `IOTHUB_TRUSTED_CA_FILE` (PEM
/// roots instead of the built-in Azure roots), `IOTHUB_MQTT_PORT` (default 8883).
/// Exit codes: 0 all acknowledged, 1 failure (one stderr line), 2 the hub refused the credentials.
@main
struct HubMinimal {
    static let usage: StaticString = "usage: hub-minimal [--count N] [--size BYTES] [--qos 0|1]"
    /// QoS 1 messages awaiting their PUBACK at most.
    static let window = 8
    /// A streak of failed connection attempts longer than this ends the program.
    static let giveUpMs: UInt64 = 60_000

    static func main() {
        var count: UInt64 = 10
        var size = 0
        var qos = MQTTQoS.atLeastOnce
        var index = 1
        while index < ProcessArguments.count {
            guard let text = ProcessArguments.argument(index + 1) else { fail(usage) }
            if ProcessArguments.argument(index, is: "--count"), let value = DecimalParser.parse(text, limit: 100_000_000) {
                count = value
            } else if ProcessArguments.argument(index, is: "--size"), let value = DecimalParser.parse(text, limit: 65_536) {
                size = Int(value)
            } else if ProcessArguments.argument(index, is: "--qos"), let value = DecimalParser.parse(text, limit: 1) {
                qos = value == 0 ? .atMostOnce : .atLeastOnce
            } else {
                fail(usage)
            }
            index += 2
        }
        var port: UInt16 = 8883
        if let text = ProcessEnvironment.value("IOTHUB_MQTT_PORT") {
            guard let value = DecimalParser.parse(text, limit: 65_535), value > 0 else { fail("invalid port in IOTHUB_MQTT_PORT") }
            port = UInt16(value)
        }

        // All memory is taken here, before the first message.
        let payloadBytes = max(32, size)
        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: payloadBytes, alignment: 1)
        guard payload.baseAddress != nil else { fail("out of memory: could not allocate the hub buffers") }
        let client = start(maxMessage: payloadBytes, port: port)
        // The loop below publishes while the window has room, then polls: the packets of a burst
        // leave together, one TLS record and one send(2), written when the burst fills the window
        // or by that poll.
        client.session.configuration.batchesPublishes = true
        client.start()

        let platform = SystemPlatform()
        var sent: UInt64 = 0
        var acknowledged: UInt64 = 0
        // The same two properties on every message: encoded once, here.
        let json: StaticString = "application/json"
        let utf8: StaticString = "utf-8"
        var system = TelemetrySystemProperties()
        system.contentType = UnsafeRawBufferPointer(start: json.utf8Start, count: json.utf8CodeUnitCount)
        system.contentEncoding = UnsafeRawBufferPointer(start: utf8.utf8Start, count: utf8.utf8CodeUnitCount)
        do throws(HubError) { try client.setTelemetryProperties(system: system) } catch { fail("cannot start: ", error.summary) }
        var body = Payload(payload, size: size)
        while acknowledged < count {
            // QoS 0 goes out only while connected (nothing queues it); QoS 1 only while the
            // in-flight window has room: nothing is formatted for a message that must wait.
            if sent < count, qos == .atLeastOnce ? client.hasInflightRoom(payloadCount: body.length + 1) : client.isConnected {
                do throws(HubError) {
                    _ = try client.sendTelemetry(body.next(), qos: qos)
                    sent += 1
                    if qos == .atMostOnce { acknowledged += 1 }
                    continue
                } catch {
                    // No connection yet: poll until it comes.
                    if case .inflightWindowFull = error {} else if case .notConnected = error {} else {
                        fail("send failed: ", error.summary)
                    }
                    body.retry()
                }
            }
            do throws(HubError) {
                try client.poll(timeoutMs: 1_000) { event in
                    switch event {
                    case .telemetryAcknowledged: acknowledged += 1
                    case .connectionLost(let error): lost(error)
                    default: break
                    }
                }
            } catch {
                fail("hub connection failed: ", error.summary, code: error.isAuthenticationFailure ? 2 : 1)
            }
            if let since = client.failingSinceMs, platform.monotonicMs() &- since >= giveUpMs {
                fail("gave up connecting after 60 s")
            }
        }
        client.disconnect()
        Console.write("sent and acknowledged: ")
        Console.write(int: Int64(count))
        Console.write("\n")
        Console.exit(0)
    }

    /// The client of `IOTHUB_DEVICE_CONNECTION_STRING` (trusting `IOTHUB_TRUSTED_CA_FILE`'s
    /// roots when it is set), with buffers sized for this device and for messages of
    /// `maxMessage` bytes (exits on failure). The environment's `String`s live only in here:
    /// the client keeps its own copy of the connection string in its identity buffer, and the
    /// roots are parsed here, so their heap blocks are released before the first connection.
    static func start(maxMessage: Int, port: UInt16) -> HubClient<MQTTFace<TLSTransport, SystemPlatform>> {
        let anchors: TrustAnchors = ProcessEnvironment.value("IOTHUB_TRUSTED_CA_FILE").map { .file($0) } ?? .azureRoots
        guard let connectionString = ProcessEnvironment.value("IOTHUB_DEVICE_CONNECTION_STRING") else {
            fail("IOTHUB_DEVICE_CONNECTION_STRING is not set")
        }
        guard let buffers = allocateBuffers(maxMessage: maxMessage, sizes: identitySizes(connectionString)) else {
            fail("out of memory: could not allocate the hub buffers")
        }
        return makeClient(connectionString, anchors: anchors, port: port, buffers: buffers)
    }

    /// What this device's identity takes, from its connection string (exits when it does not parse).
    static func identitySizes(_ text: String) -> HubIdentitySizes {
        var text = text
        let sizes: Result<HubIdentitySizes, ConnectionStringError> = text.withUTF8 { bytes in
            do throws(ConnectionStringError) {
                return .success(HubIdentitySizes(try ConnectionString.parse(UnsafeRawBufferPointer(bytes)), textLength: bytes.count))
            } catch {
                return .failure(error)
            }
        }
        switch sizes {
        case .success(let value): return value
        case .failure(let error): fail("cannot start: ", HubError.connectionString(error).summary)
        }
    }

    /// The client's buffers, sized for telemetry only and for this device (`sizes`): a payload of
    /// `maxMessage` bytes on its telemetry topic, a receive buffer for acknowledgements, the
    /// identity (connection string, client id, user name, SAS token) and a transmit buffer that
    /// holds the CONNECT packet carrying them. Nil when memory ran out.
    static func allocateBuffers(maxMessage: Int, sizes: HubIdentitySizes) -> HubBuffers? {
        let bag = 38 // %24.ct=application%2Fjson&%24.ce=utf-8
        let topicBytes = sizes.telemetryTopicPrefix + bag // the topic with its bag
        let packet = MQTTEncoder.publishSize(topicLength: sizes.telemetryTopicPrefix + bag, payloadLength: maxMessage, qos: .atLeastOnce)
        guard let mqtt = MQTTBuffers.allocate(transmit: max(packet, sizes.connectPacket), receive: 128,
                                              inflightBytes: packet * window, inflightWindow: window) else { return nil }
        let buffers = HubBuffers(mqtt: mqtt, identity: .allocate(byteCount: sizes.identity, alignment: 1),
                                 topic: .allocate(byteCount: topicBytes, alignment: 1))
        guard buffers.identity.baseAddress != nil, buffers.topic.baseAddress != nil else { return nil }
        return buffers
    }

    /// A telemetry-only client over TLS to the connection string's host (exits on failure).
    /// The string is parsed once, into the client's identity buffer, where the client finds it.
    /// The library is handed bytes, not `String`s: its String conveniences would link the
    /// standard library's String code into the protocol code (about 10 KB).
    static func makeClient(_ text: String, anchors: TrustAnchors, port: UInt16,
                           buffers: HubBuffers) -> HubClient<MQTTFace<TLSTransport, SystemPlatform>> {
        var text = text
        let parsed: Result<HubConfiguration, HubError> = text.withUTF8 { bytes in
            do throws(HubError) {
                return .success(try HubConfiguration(connectionString: UnsafeRawBufferPointer(bytes), storage: buffers.identity))
            } catch {
                return .failure(error)
            }
        }
        let configuration: HubConfiguration
        switch parsed {
        case .success(let value): configuration = value
        case .failure(let error): fail("cannot start: ", error.summary)
        }
        guard Heap.canAllocate(Heap.stringBytes(utf8Count: configuration.connectHost.count)) else {
            fail("out of memory: no room for the host name")
        }
        let host = String(decoding: configuration.connectHost, as: UTF8.self)
        let transport: TLSTransport
        do throws(TransportError) {
            var tls = TLSConfiguration(host: host, port: port, trustAnchors: anchors)
            // Read-ahead sized for the most the hub can have sent that this program has not read:
            // one PUBACK per message in flight and a PINGRESP, as TLS records (5 header, 8 nonce,
            // the packet, 16 tag: 33 and 31 bytes). A burst of them still costs one `recv`.
            tls.readAheadBytes = window * 33 + 31
            transport = try TLSTransport(tls)
        } catch {
            fail("TLS setup failed: ", error.summary)
        }
        // Embedded Swift traps when a class instance cannot be allocated: the client and its
        // session (each well under 1 KB) and the SAS signature's digest context must fit.
        guard Heap.canAllocate(2 * MQTTSession<TLSTransport, SystemPlatform>.objectBytes) else {
            fail("out of memory: no room for the hub client")
        }
        do throws(HubError) {
            return try HubClient(sendingTelemetryOnly: configuration, transport: transport, platform: SystemPlatform(),
                                 crypto: MbedTLSCrypto(), buffers: buffers)
        } catch {
            fail("cannot start: ", error.summary)
        }
    }

    /// A lost connection is retried by the client, except when no retry can mend it.
    static func lost(_ error: MQTTError) {
        if case .transport(let transport) = error {
            switch transport {
            case .outOfMemory, .untrustedCertificate, .hostnameMismatch, .certificateExpired, .invalidConfiguration:
                fail("hub connection failed: ", error.summary)
            default: break
            }
        }
        Console.write("connection lost: ", to: .err)
        Console.write(error.summary, to: .err)
        Console.write("\n", to: .err)
    }

    /// The messages `{"seq":N}` (then spaces up to `size` bytes), N = 1, 2, …: the digits are
    /// counted up in place, so a message costs a few byte writes, not a decimal formatting.
    struct Payload {
        let buffer: UnsafeMutableRawBufferPointer
        let size: Int
        /// Bytes of the message last made (`{"seq":` + digits + `}` + padding).
        private(set) var length = 0
        private var digits = 1

        /// Makes the buffer hold `{"seq":0}` (the message before the first).
        init(_ buffer: UnsafeMutableRawBufferPointer, size: Int) {
            self.buffer = buffer
            self.size = size
            let head: StaticString = "{\"seq\":0}"
            buffer.copyMemory(from: UnsafeRawBufferPointer(start: head.utf8Start, count: head.utf8CodeUnitCount))
            length = pad(head.utf8CodeUnitCount)
        }

        /// The next message.
        mutating func next() -> UnsafeRawBufferPointer {
            let first = 7 // after {"seq":
            var i = first + digits - 1
            while i >= first, buffer[i] == 0x39 { // '9' carries
                buffer[i] = 0x30
                i -= 1
            }
            if i >= first {
                buffer[i] += 1
            } else { // 99…9 + 1: one more digit, a 1 in front
                buffer[first] = 0x31
                buffer[first + digits] = 0x30
                digits += 1
                buffer[first + digits] = 0x7D // }
                length = pad(first + digits + 1)
            }
            return UnsafeRawBufferPointer(rebasing: buffer[0..<length])
        }

        /// The last message was not sent: `next` makes it again.
        mutating func retry() {
            let first = 7
            var i = first + digits - 1
            while buffer[i] == 0x30, i > first { // borrow
                buffer[i] = 0x39
                i -= 1
            }
            buffer[i] -= 1
            // A shorter number (10 → 09) keeps its leading zero until `next` carries it back.
        }

        /// Spaces from `end` up to `size`; returns the length.
        private func pad(_ end: Int) -> Int {
            var length = end
            while length < size {
                buffer[length] = 0x20
                length += 1
            }
            return length
        }
    }

    static func fail(_ message: StaticString, _ detail: StaticString = "", code: Int32 = 1) -> Never {
        Console.write(message, to: .err)
        Console.write(detail, to: .err)
        Console.write("\n", to: .err)
        Console.exit(code)
    }
}
