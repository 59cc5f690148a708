import TinyHub
import TinyMQTT
import TinyPlatform
import TinyTLS

/// hub-minimal [--count N] [--size BYTES]
///
/// The smallest telemetry program: MQTT over TLS, SAS authentication (renewed by the client),
/// reconnects with the library's backoff, a QoS 1 window of 8. No cloud-to-device messages,
/// twin, methods, clock check or HTTPS. Sends N messages `{"seq":i}` (padded with spaces to
/// `--size` bytes when that is larger) and exits 0 once the hub acknowledged all N, printing
/// `sent and acknowledged: N`. It is the program of the 1 MB device profile
/// (docs/device-profile.md).
///
/// Environment: `IOTHUB_DEVICE_CONNECTION_STRING` (required), `IOTHUB_TRUSTED_CA_FILE` (PEM
/// roots instead of the built-in Azure roots), `IOTHUB_MQTT_PORT` (default 8883).
/// Exit codes: 0 all acknowledged, 1 failure (one stderr line), 2 the hub refused the credentials.
@main
struct HubMinimal {
    static let usage: StaticString = "usage: hub-minimal [--count N] [--size BYTES]"
    /// QoS 1 messages awaiting their PUBACK at most.
    static let window = 8
    /// A streak of failed connection attempts longer than this ends the program.
    static let giveUpMs: UInt64 = 60_000

    static func main() {
        var count: UInt64 = 10
        var size = 0
        var index = 1
        while index < ProcessArguments.count {
            guard let text = ProcessArguments.argument(index + 1) else { fail(usage) }
            if ProcessArguments.argument(index, is: "--count"), let value = DecimalParser.parse(text, limit: 100_000_000) {
                count = value
            } else if ProcessArguments.argument(index, is: "--size"), let value = DecimalParser.parse(text, limit: 65_536) {
                size = Int(value)
            } else {
                fail(usage)
            }
            index += 2
        }
        guard let connectionString = ProcessEnvironment.value("IOTHUB_DEVICE_CONNECTION_STRING") else {
            fail("IOTHUB_DEVICE_CONNECTION_STRING is not set")
        }
        let anchors: TrustAnchors = ProcessEnvironment.value("IOTHUB_TRUSTED_CA_FILE").map { .file($0) } ?? .azureRoots
        var port: UInt16 = 8883
        if let text = ProcessEnvironment.value("IOTHUB_MQTT_PORT") {
            guard let value = DecimalParser.parse(text, limit: 65_535), value > 0 else { fail("invalid port in IOTHUB_MQTT_PORT") }
            port = UInt16(value)
        }

        // All memory is taken here, before the first message.
        let payloadBytes = max(32, size)
        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: payloadBytes, alignment: 1)
        guard payload.baseAddress != nil, let buffers = allocateBuffers(maxMessage: payloadBytes) else {
            fail("out of memory: could not allocate the hub buffers")
        }
        let client = makeClient(connectionString, anchors: anchors, port: port, buffers: buffers)
        client.start()

        let platform = SystemPlatform()
        var sent: UInt64 = 0
        var acknowledged: UInt64 = 0
        while acknowledged < count {
            if sent < count {
                let length = formatPayload(sent + 1, size: size, into: payload)
                do throws(HubError) {
                    _ = try client.sendTelemetry(UnsafeRawBufferPointer(rebasing: payload[0..<length]))
                    sent += 1
                    continue
                } catch {
                    // A full window or no connection yet: poll until a PUBACK or the connection comes.
                    if case .mqtt(.inflightWindowFull) = error {} else if case .mqtt(.notConnected) = error {} else {
                        fail("send failed: ", error.summary)
                    }
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

    /// The client's buffers, sized for telemetry only: a payload of `maxMessage` bytes on the
    /// plain telemetry topic, a receive buffer for acknowledgements, a 1 KB identity (connection
    /// string, client id, user name, SAS token) and a transmit buffer that holds the CONNECT
    /// packet carrying them. Nil when memory ran out.
    static func allocateBuffers(maxMessage: Int) -> HubBuffers? {
        let topicBytes = 192 // devices/{id}/messages/events/ for a device id of up to 128 bytes
        let packet = MQTTEncoder.publishSize(topicLength: topicBytes, payloadLength: maxMessage, qos: .atLeastOnce)
        guard let mqtt = MQTTBuffers.allocate(transmit: max(packet, 1_024), receive: 128, inflightBytes: packet * window,
                                              inflightWindow: window) else { return nil }
        let buffers = HubBuffers(mqtt: mqtt, identity: .allocate(byteCount: 1_024, alignment: 1),
                                 topic: .allocate(byteCount: topicBytes, alignment: 1))
        guard buffers.identity.baseAddress != nil, buffers.topic.baseAddress != nil else { return nil }
        return buffers
    }

    /// A telemetry-only client over TLS to the connection string's host (exits on failure).
    /// The string is parsed once, into the client's identity buffer, where the client finds it.
    static func makeClient(_ text: String, anchors: TrustAnchors, port: UInt16,
                           buffers: HubBuffers) -> HubClient<TLSTransport, SystemPlatform> {
        let configuration: HubConfiguration
        do throws(HubError) {
            configuration = try HubConfiguration(connectionString: text, storage: buffers.identity)
        } catch {
            fail("cannot start: ", error.summary)
        }
        guard Heap.canAllocate(Heap.stringBytes(utf8Count: configuration.connectHost.count)) else {
            fail("out of memory: no room for the host name")
        }
        let host = configuration.connectHostText
        let transport: TLSTransport
        do throws(TransportError) {
            transport = try TLSTransport(TLSConfiguration(host: host, port: port, trustAnchors: anchors))
        } catch {
            fail("TLS setup failed: ", error.summary)
        }
        // Embedded Swift traps when a class instance cannot be allocated: the client and its
        // session (each well under 1 KB) and the SAS signature's digest context must fit.
        guard Heap.canAllocate(2 * MQTTSession<TLSTransport, SystemPlatform>.objectBytes) else {
            fail("out of memory: no room for the hub client")
        }
        var options = HubOptions()
        options.features = []
        do throws(HubError) {
            return try HubClient(configuration: configuration, transport: transport, platform: SystemPlatform(),
                                 buffers: buffers, options: options)
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

    /// `{"seq":N}`, then spaces up to `size` bytes.
    static func formatPayload(_ sequence: UInt64, size: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let head: StaticString = "{\"seq\":"
        UnsafeMutableRawBufferPointer(rebasing: buffer[0..<head.utf8CodeUnitCount])
            .copyMemory(from: UnsafeRawBufferPointer(start: head.utf8Start, count: head.utf8CodeUnitCount))
        var length = head.utf8CodeUnitCount
        length += Console.formatDecimal(Int64(sequence), into: UnsafeMutableRawBufferPointer(rebasing: buffer[length...]))
        buffer[length] = 0x7D // }
        length += 1
        while length < size {
            buffer[length] = 0x20
            length += 1
        }
        return length
    }

    static func fail(_ message: StaticString, _ detail: StaticString = "", code: Int32 = 1) -> Never {
        Console.write(message, to: .err)
        Console.write(detail, to: .err)
        Console.write("\n", to: .err)
        Console.exit(code)
    }
}
