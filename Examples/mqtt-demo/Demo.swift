import TinyMQTT
import TinyPlatform
import TinyTLS

/// mqtt-demo: connects to an MQTT broker over TLS, subscribes to its own topic, publishes
/// `--count` QoS 1 messages and waits until every one is both acknowledged (PUBACK) and
/// received back. Exits 0 only then.
///
/// Environment: MQTT_HOST (default localhost), MQTT_PORT (default 8883), MQTT_CA_FILE
/// (PEM roots; default: the built-in Azure roots), MQTT_CLIENT_ID (default tinyhub-demo).
@main
struct Demo {
    static func main() {
        var count: UInt64 = 5
        var index = 1
        while index < ProcessArguments.count {
            if ProcessArguments.argument(index, is: "--count"), let text = ProcessArguments.argument(index + 1),
               let value = DecimalParser.parse(text, limit: 1_000_000) {
                count = value
                index += 2
            } else {
                fail("usage: mqtt-demo [--count N]")
            }
        }
        let host = ProcessEnvironment.value("MQTT_HOST") ?? "localhost"
        var port: UInt64 = 8883
        if let text = ProcessEnvironment.value("MQTT_PORT") {
            guard let value = DecimalParser.parse(text, limit: 65_535), value > 0 else { fail("invalid port in MQTT_PORT") }
            port = value
        }
        let anchors: TrustAnchors = ProcessEnvironment.value("MQTT_CA_FILE").map { .file($0) } ?? .azureRoots
        var clientID = ProcessEnvironment.value("MQTT_CLIENT_ID") ?? "tinyhub-demo"
        // Embedded Swift traps when a String's storage cannot be allocated: probe first.
        guard Heap.canAllocate(Heap.stringBytes(utf8Count: 13 + clientID.utf8.count)) else {
            fail("out of memory: no room for the topic")
        }
        var topic = "tinyhub/demo/" + clientID

        let transport: TLSTransport
        do throws(TransportError) {
            transport = try TLSTransport(TLSConfiguration(host: host, port: UInt16(port), trustAnchors: anchors))
        } catch {
            fail(error.summary)
        }
        guard let buffers = MQTTBuffers.allocate(transmit: 1024, receive: 1024, inflightBytes: 4096, inflightWindow: 16) else {
            fail("out of memory: could not allocate the MQTT buffers")
        }
        guard Heap.canAllocate(MQTTSession<TLSTransport, SystemPlatform>.objectBytes) else {
            fail("out of memory: no room for the MQTT session")
        }
        let session = MQTTSession(transport: transport, platform: SystemPlatform(), buffers: buffers)
        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
        guard payload.baseAddress != nil else { fail("out of memory: no room for the payload") }

        clientID.withUTF8 { id in
            topic.withUTF8 { topicBytes in
                let topicRaw = UnsafeRawBufferPointer(topicBytes)
                do throws(MQTTError) {
                    let present = try session.connect(MQTTConnectOptions(clientID: UnsafeRawBufferPointer(id), cleanSession: true, keepAliveSeconds: 30))
                    Console.write("connected over TLS to ")
                    Console.write(host)
                    Console.write(present ? " (session present)\n" : " (new session)\n")
                    var subscription = MQTTSubscription(filter: topicRaw, qos: .atLeastOnce)
                    try withUnsafePointer(to: &subscription) { (pointer) throws(MQTTError) in
                        _ = try session.subscribe(UnsafeBufferPointer(start: pointer, count: 1))
                    }
                } catch {
                    fail(error.summary)
                }

                var subscribed = false
                var published: UInt64 = 0
                var delivered: UInt64 = 0
                var received: UInt64 = 0
                while received < count || delivered < count {
                    if subscribed, published < count, session.canPublish(topicLength: topicRaw.count, payloadLength: 64) {
                        let length = formatPayload(published + 1, into: payload)
                        do throws(MQTTError) {
                            _ = try session.publish(topic: topicRaw, payload: UnsafeRawBufferPointer(rebasing: payload[0..<length]),
                                                    qos: .atLeastOnce)
                        } catch {
                            fail(error.summary)
                        }
                        published += 1
                        continue
                    }
                    do throws(MQTTError) {
                        try session.poll(timeoutMs: 5_000) { event in
                            switch event {
                            case .subscribed(_, let codes):
                                if codes.count > 0, codes[0] == 0x80 { fail("subscription refused by the broker") }
                                subscribed = true
                                Console.write("subscribed to ")
                                Console.write(bytes: topicRaw)
                                Console.write("\n")
                            case .delivered:
                                delivered += 1
                            case .message(let message):
                                received += 1
                                Console.write("received: ")
                                Console.write(bytes: message.payload)
                                Console.write("\n")
                            case .connectionLost(let error):
                                // Memory does not come back by waiting: out of memory ends the program, never retried.
                                if case .transport(.outOfMemory) = error { fail(error.summary) }
                                Console.write("connection lost: ", to: .err)
                                Console.write(error.summary, to: .err)
                                Console.write("\n", to: .err)
                            case .reconnectScheduled(let delay, _):
                                Console.write("reconnecting in ", to: .err)
                                Console.write(int: Int64(delay), to: .err)
                                Console.write(" ms\n", to: .err)
                            case .connected:
                                Console.write("reconnected\n")
                            case .ackTimedOut:
                                fail("subscription not acknowledged")
                            default:
                                break
                            }
                        }
                    } catch {
                        fail(error.summary)
                    }
                }
                Console.write("published ")
                Console.write(int: Int64(published))
                Console.write(", acknowledged ")
                Console.write(int: Int64(delivered))
                Console.write(", received back ")
                Console.write(int: Int64(received))
                Console.write("\n")
            }
        }
        session.disconnect()
        Console.write("disconnected cleanly\n")
        Console.exit(0)
    }

    /// Writes `{"seq":N}` into `buffer`; returns its length.
    static func formatPayload(_ sequence: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let prefix: StaticString = "{\"seq\":"
        UnsafeMutableRawBufferPointer(rebasing: buffer[0..<prefix.utf8CodeUnitCount])
            .copyMemory(from: UnsafeRawBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount))
        var length = prefix.utf8CodeUnitCount
        length += Console.formatDecimal(Int64(sequence), into: UnsafeMutableRawBufferPointer(rebasing: buffer[length...]))
        buffer[length] = 0x7D // "}"
        return length + 1
    }

    static func fail(_ message: StaticString) -> Never {
        Console.write("mqtt-demo: ", to: .err)
        Console.write(message, to: .err)
        Console.write("\n", to: .err)
        Console.exit(1)
    }
}
