import HubExampleSupport
import TinyHub
import TinyMQTT
import TinyPlatform
import TinyTLS

/// hub-c2d [--count N] [--transport mqtt|mqtt-ws|https] [--timeout-s S] [--dev-poll-interval-s S]
///
/// Receives cloud-to-device messages and prints each as exactly one stdout line
/// `c2d <payload>` (payload bytes as received); everything else goes to stderr. Exits 0
/// after N messages (default 1), 3 when `--timeout-s` (default 0: wait forever) passes first.
///
/// - MQTT: subscribes to the device's C2D topic (QoS 1); the PUBACK that completes a
///   message at the hub goes out after its line is printed.
/// - `mqtt-ws`: the same over WebSockets on the HTTPS port (`IOTHUB_HTTPS_PORT`, default 443).
/// - HTTPS: polls `GET …/messages/deviceBound`, prints each message, then completes it
///   (`DELETE …/{lock}`). Polling honours the 25-minute production floor: the first poll
///   is at once, the next cycle 25 minutes after it. `--dev-poll-interval-s S` switches to
///   the explicit development mode (a poll cycle every S seconds; announced on stderr).
@main
struct HubC2D {
    static let usage: StaticString =
        "usage: hub-c2d [--count N] [--transport mqtt|mqtt-ws|https] [--timeout-s S] [--dev-poll-interval-s S]"

    /// Largest payload printed (bigger ones are dropped over MQTT, rejected over HTTPS, with a stderr line).
    static let maxMessage = 16_384

    /// Room in the MQTT receive buffer beside the payload: the PUBLISH header and the topic
    /// `devices/{id}/messages/devicebound/{property bag}` (the hub's system and application properties).
    static let topicRoom = 2_048

    static func main() {
        var count: UInt64 = 1
        var transport = ExampleTransport.mqtt
        var timeoutS: UInt64 = 0
        var devInterval: UInt64? = nil
        var arguments = ExampleArguments()
        while arguments.hasMore {
            if let n = arguments.number(for: "--count", limit: 100_000_000, usage: usage) { count = n; continue }
            if let t = arguments.value(for: "--transport", usage: usage) { transport = ExampleTransport.parse(t, usage: usage); continue }
            if let n = arguments.number(for: "--timeout-s", limit: 31_536_000, usage: usage) { timeoutS = n; continue }
            if let n = arguments.number(for: "--dev-poll-interval-s", limit: 1_499, usage: usage) {
                guard n > 0 else { ExampleArguments.fail("bad value for ", "--dev-poll-interval-s", usage) }
                devInterval = n
                continue
            }
            arguments.unknown(usage)
        }
        if devInterval != nil, transport != .https {
            ExampleOutput.fail("hub-c2d: --dev-poll-interval-s needs --transport https (MQTT is push, not polled)")
        }

        let environment = ExampleEnvironment.read(transport: transport)
        let platform = SystemPlatform()
        let deadline: UInt64 = timeoutS > 0 ? platform.monotonicMs() + timeoutS * 1_000 : UInt64.max
        let received: UInt64
        switch transport {
        case .mqtt, .mqttWebSocket: received = receiveOverMQTT(count: count, deadline: deadline, environment: environment, platform: platform)
        case .https:
            received = receiveOverHTTPS(count: count, deadline: deadline, devInterval: devInterval,
                                        environment: environment, platform: platform)
        }
        guard received >= count else {
            Console.write("hub-c2d: timed out after ", to: .err)
            Console.write(int: Int64(timeoutS), to: .err)
            Console.write(" s with ", to: .err)
            Console.write(int: Int64(received), to: .err)
            ExampleOutput.fail(" of ", Int64(count), " cloud-to-device messages", code: 3)
        }
        Console.exit(0)
    }

    /// MQTT: polls until `count` messages were printed (and acknowledged) or `deadline`.
    /// Returns the number received.
    static func receiveOverMQTT(count: UInt64, deadline: UInt64, environment: ExampleEnvironment,
                                platform: SystemPlatform) -> UInt64 {
        var options = HubOptions()
        options.features = [.cloudToDevice]
        guard let buffers = HubBuffers.allocate(maxMessage: 0, receive: maxMessage + topicRoom, window: 1) else {
            ExampleOutput.fail("out of memory: could not allocate the hub buffers")
        }
        var route = MQTTC2DRoute(client: environment.connectMQTT(buffers: buffers, options: options))
        return receive(count: count, deadline: deadline, over: &route, platform: platform)
    }

    /// HTTPS: receives and completes messages, one GET at a time, when the polling policy
    /// allows; sleeps in between. Returns the number received. The hub refusing an identity from
    /// `IOTHUB_DPS_CACHE_FILE` leads to one DPS registration and a new client (`reprovisionedHTTPS`).
    static func receiveOverHTTPS(count: UInt64, deadline: UInt64, devInterval: UInt64?, environment: ExampleEnvironment,
                                 platform: SystemPlatform) -> UInt64 {
        var options = HubOptions()
        if let devInterval { options.polling = .development(intervalSeconds: UInt32(devInterval)) }
        guard let buffers = HubHTTPSBuffers.allocate(request: 1_024, responseHeaders: 2_048, body: maxMessage, identity: 1_024) else {
            ExampleOutput.fail("out of memory: could not allocate the hub buffers")
        }
        var route = HTTPSC2DRoute(client: environment.makeHTTPS(buffers: buffers, options: options), environment: environment,
                                  buffers: buffers, options: options)
        return receive(count: count, deadline: deadline, over: &route, platform: platform)
    }

    /// The one receiving loop of both protocols: waits for the hub until `count` messages were
    /// printed (`c2d <payload>`, one stdout line each) and settled, or `deadline`; closes the
    /// connection. Returns the number received.
    static func receive<Route: C2DRoute>(count: UInt64, deadline: UInt64, over route: inout Route,
                                         platform: SystemPlatform) -> UInt64 {
        var received: UInt64 = 0
        while received < count {
            let now = platform.monotonicMs()
            guard now < deadline else { break }
            received += route.receive(withinMs: deadline - now, wanted: count - received, platform: platform) { message in
                ExampleOutput.record("c2d", message.payload)
            }
        }
        route.client.close()
        return received
    }
}
