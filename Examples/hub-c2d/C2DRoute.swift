import HubExampleSupport
import TinyHub
import TinyPlatform

/// What hub-c2d does differently over each protocol; the rest is `HubC2D.receive`, generic over
/// the route and so over the client's face.
protocol C2DRoute {
    /// The client's protocol face.
    associatedtype Face: HubFace
    /// The hub client.
    var client: HubClient<Face> { get }
    /// Waits for the hub for at most `ms` (`wanted` messages still to come), hands each message
    /// that arrives to `print` and settles it; returns how many count as received.
    mutating func receive(withinMs ms: UInt64, wanted: UInt64, platform: SystemPlatform,
                          _ print: (CloudToDeviceMessage) -> Void) -> UInt64
}

/// MQTT: the hub pushes messages on the subscribed C2D topic; the PUBACK that completes one goes
/// out after `print` returned.
struct MQTTC2DRoute: C2DRoute {
    let client: ExampleHubClient

    func receive(withinMs ms: UInt64, wanted: UInt64, platform: SystemPlatform,
                 _ print: (CloudToDeviceMessage) -> Void) -> UInt64 {
        var received: UInt64 = 0
        // Every message this poll delivers is printed before its PUBACK, even one beyond
        // `wanted` that arrived in the same read: a completed message is never unseen.
        pollOrExit(client, timeoutMs: UInt32(min(ms, 1_000))) { event in
            switch event {
            case .cloudToDevice(let message):
                print(message)
                received += 1
            case .subscribed:
                Console.write("hub-c2d: subscribed, waiting for ", to: .err)
                Console.write(int: Int64(wanted - min(received, wanted)), to: .err)
                Console.write(" cloud-to-device messages\n", to: .err)
            default:
                reportConnectionEvent(event)
            }
        }
        return received
    }
}

/// HTTPS: one GET when the polling policy allows (sleeping until then), the message printed,
/// then completed (`DELETE …/{lock}`); counted once completed (if completing fails the hub
/// delivers it again). Transient failures are retried at the next poll the policy allows, until a
/// streak of them has lasted `IOTHUB_CONNECT_RETRY_S`.
struct HTTPSC2DRoute: C2DRoute {
    var client: ExampleHTTPSClient
    var environment: ExampleEnvironment
    let buffers: HubHTTPSBuffers
    let options: HubOptions
    var retry = HTTPSRetry()
    /// Whether the wait for the current poll was announced on stderr.
    var announced = false

    mutating func receive(withinMs ms: UInt64, wanted: UInt64, platform: SystemPlatform,
                          _ print: (CloudToDeviceMessage) -> Void) -> UInt64 {
        let due = client.nextPollInMs
        if due > 0 {
            if !announced, due >= 10_000 {
                Console.write("hub-c2d: next poll in ", to: .err)
                Console.write(int: Int64(due / 1_000), to: .err)
                Console.write(" s\n", to: .err)
                announced = true
            }
            platform.sleep(ms: UInt32(min(due, ms, 60_000)))
            return 0
        }
        announced = false
        let startedMs = platform.monotonicMs()
        do throws(HubError) {
            guard let message = try client.receive() else { retry.succeeded(); return 0 } // queue empty: the cycle ended
            print(message)
            try client.complete(message)
            retry.succeeded()
            return 1
        } catch {
            if case .pollTooSoon = error { return 0 }
            if let fresh = environment.reprovisionedHTTPS(after: error, replacing: client, buffers: buffers, options: options) {
                client = fresh
                return 0
            }
            Console.write("hub-c2d: ", to: .err)
            Console.write(error.summary, to: .err)
            switch error {
            case .lockLost, .receivedMessageTooLarge:
                Console.write("\n", to: .err) // the message comes again / was rejected
            default:
                // The rest end the program (HTTPSRetry exits).
                _ = retry.failed(error, startedMs: startedMs, prefix: "hub-c2d: ")
                Console.write(" (retrying at the next poll)\n", to: .err)
            }
            return 0
        }
    }
}
