import HubExampleSupport
import TinyHub
import TinyMQTT
import TinyPlatform
import TinyTLS

/// hub-methods [--transport mqtt|mqtt-ws] [--count N]
///
/// Over MQTT: answers each direct method with status 200 and the request payload echoed
/// byte for byte, printing `method <name> <payload>` on stdout for each. Exits 0 after N
/// calls (default 1). Requests larger than 16 KB are dropped by the client (stderr line);
/// the caller then sees the hub's method timeout. `--transport mqtt-ws`: MQTT over WebSockets on
/// the HTTPS port (`IOTHUB_HTTPS_PORT`, default 443).
@main
struct HubMethods {
    static let usage: StaticString = "usage: hub-methods [--transport mqtt|mqtt-ws] [--count N]"

    /// Largest request payload answered (the echo must fit the transmit buffer too).
    static let maxPayload = 16_384

    static func main() {
        var count: UInt64 = 1
        var transport = ExampleTransport.mqtt
        var arguments = ExampleArguments()
        while arguments.hasMore {
            if let t = arguments.value(for: "--transport", usage: usage) {
                transport = ExampleTransport.parse(t, usage: usage, https: false)
                continue
            }
            if let n = arguments.number(for: "--count", limit: 100_000_000, usage: usage) { count = n; continue }
            arguments.unknown(usage)
        }
        let environment = ExampleEnvironment.read(transport: transport)

        var options = HubOptions()
        options.features = [.methods]
        // Responses are QoS 0: no in-flight arena needed beyond the minimum. The transmit
        // buffer holds the largest echo plus its topic.
        let transmit = MQTTEncoder.publishSize(topicLength: 512, payloadLength: maxPayload, qos: .atMostOnce)
        guard let mqtt = MQTTBuffers.allocate(transmit: transmit, receive: maxPayload + 1_024, inflightBytes: 64,
                                              inflightWindow: 1) else {
            ExampleOutput.fail("out of memory: could not allocate the hub buffers")
        }
        let buffers = HubBuffers(mqtt: mqtt, identity: .allocate(byteCount: 2_048, alignment: 1),
                                 topic: .allocate(byteCount: 512, alignment: 1))
        let client = environment.connectMQTT(buffers: buffers, options: options)

        var answered: UInt64 = 0
        while answered < count {
            // Every call this poll delivers is answered (and printed), even beyond `count`.
            pollOrExit(client, timeoutMs: 1_000) { event in
                switch event {
                case .methodRequest(let request):
                    Console.write("method ")
                    Console.write(bytes: request.name)
                    Console.write(" ")
                    Console.write(bytes: request.payload)
                    Console.write("\n")
                    do throws(HubError) {
                        try client.respondToMethod(requestID: request.requestID, status: 200, payload: request.payload)
                        answered += 1
                    } catch {
                        // A lost connection: the hub's caller sees a timeout; the next call may succeed.
                        if case .notConnected = error {
                            ExampleOutput.note("hub-methods: connection lost before the answer")
                        } else {
                            ExampleOutput.fail("hub-methods: could not answer: ", error.summary)
                        }
                    }
                case .subscribed:
                    Console.write("hub-methods: subscribed, waiting for ", to: .err)
                    Console.write(int: Int64(count - min(answered, count)), to: .err)
                    Console.write(" direct method calls\n", to: .err)
                default:
                    reportConnectionEvent(event)
                }
            }
        }
        client.disconnect()
        Console.exit(0)
    }
}
