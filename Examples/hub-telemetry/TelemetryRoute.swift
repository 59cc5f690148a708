import HubExampleSupport
import TinyHub
import TinyMQTT
import TinyPlatform
import TinyTLS

/// What hub-telemetry does differently over each protocol; the rest is `HubTelemetry.send`,
/// generic over the route and so over the client's face.
protocol TelemetryRoute {
    /// The client's protocol face.
    associatedtype Face: HubFace
    /// The hub client.
    var client: HubClient<Face> { get }
    /// Whether a message of `payloadCount` bytes may go out now.
    func mayQueue(payloadCount: Int) -> Bool
    /// Sends one message; returns whether the hub has acknowledged it already.
    mutating func send(_ payload: UnsafeRawBufferPointer, system: TelemetrySystemProperties) throws(HubError) -> Bool
    /// After a send that started at `startedMs` failed: how long to wait before the same message
    /// goes out again, or nil to send it again at once. Exits when the failure is final.
    mutating func failed(_ error: HubError, startedMs: UInt64) -> UInt64?
    /// Waits up to `ms` for the hub, calling `acknowledged` for each message it acknowledges.
    func wait(ms: UInt64, platform: SystemPlatform, _ acknowledged: () -> Void)
}

/// MQTT: up to the in-flight window of QoS 1 messages outstanding, acknowledged by events from
/// `poll` (across reconnects and SAS renewals); QoS 0 messages count once sent. The content type
/// and the `--property` pairs were set once as the client's fixed properties.
struct MQTTTelemetryRoute: TelemetryRoute {
    let client: ExampleHubClient
    let qos: MQTTQoS

    func mayQueue(payloadCount: Int) -> Bool {
        // QoS 0 needs the connection, QoS 1 room in the in-flight window.
        qos == .atMostOnce ? client.isConnected : client.hasInflightRoom(payloadCount: payloadCount)
    }

    func send(_ payload: UnsafeRawBufferPointer, system: TelemetrySystemProperties) throws(HubError) -> Bool {
        var system = system
        system.contentType = nil // sent with every message already
        try client.sendTelemetry(payload, system: system, qos: qos)
        return qos == .atMostOnce
    }

    func failed(_ error: HubError, startedMs: UInt64) -> UInt64? {
        if case .inflightWindowFull = error {} else if case .notConnected = error {} else {
            ExampleOutput.fail("send failed: ", error.summary)
        }
        return 0 // the next poll makes room or connects
    }

    func wait(ms: UInt64, platform: SystemPlatform, _ acknowledged: () -> Void) {
        pollOrExit(client, timeoutMs: UInt32(min(ms, 1_000))) { event in
            if case .telemetryAcknowledged = event { acknowledged() } else { reportConnectionEvent(event) }
        }
    }
}

/// HTTPS: one POST per message, acknowledged by its 204 before the next; failures retried by
/// `HTTPSRetry` after its backoff, or with a new identity after one DPS registration.
struct HTTPSTelemetryRoute: TelemetryRoute {
    var client: ExampleHTTPSClient
    var environment: ExampleEnvironment
    let buffers: HubHTTPSBuffers
    let properties: UnsafeBufferPointer<MessageProperty>
    var retry = HTTPSRetry()

    func mayQueue(payloadCount: Int) -> Bool { true }

    mutating func send(_ payload: UnsafeRawBufferPointer, system: TelemetrySystemProperties) throws(HubError) -> Bool {
        try client.sendTelemetry(payload, system: system, properties: properties)
        retry.succeeded()
        return true
    }

    mutating func failed(_ error: HubError, startedMs: UInt64) -> UInt64? {
        if let fresh = environment.reprovisionedHTTPS(after: error, replacing: client, buffers: buffers, options: HubOptions()) {
            client = fresh
            return nil
        }
        let waitMs = retry.failed(error, startedMs: startedMs, prefix: "send failed: ")
        Console.write("send failed (", to: .err)
        Console.write(error.summary, to: .err)
        Console.write("), retrying in ", to: .err)
        Console.write(int: Int64(waitMs), to: .err)
        Console.write(" ms\n", to: .err)
        return waitMs
    }

    func wait(ms: UInt64, platform: SystemPlatform, _ acknowledged: () -> Void) {
        platform.sleep(ms: UInt32(clamping: ms))
    }
}
