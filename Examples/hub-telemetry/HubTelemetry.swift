import HubExampleSupport
import TinyHub
import TinyMQTT
import TinyPlatform
import TinyTLS

/// hub-telemetry [--count N] [--interval-ms MS] [--qos 0|1] [--transport mqtt|mqtt-ws|https]
///               [--property k=v]... [--content-type T]
///
/// Sends N JSON messages (`{"seq":i,"time":unix-seconds}`), each with a unique message id
/// (`<random run id>-<i>`), and exits 0 if and only if the hub accepted all N: PUBACK for
/// MQTT QoS 1 (across reconnects and SAS renewals), HTTP 204 for each POST over HTTPS.
/// `--qos` only means something over MQTT; over HTTPS it is accepted and ignored (every
/// HTTPS message is acknowledged by its 204). Prints `sent and acknowledged: N` on stdout.
/// `mqtt-ws` is MQTT over WebSockets on the HTTPS port (`IOTHUB_HTTPS_PORT`, default 443), for
/// networks that only let 443 through.
/// With `IOTHUB_OUTBOX_FILE` (MQTT, QoS 1) messages are kept in that file until acknowledged and
/// survive a crash: see `sendThroughOutbox`.
@main
struct HubTelemetry {
    static let usage: StaticString =
        "usage: hub-telemetry [--count N] [--interval-ms MS] [--qos 0|1] [--transport mqtt|mqtt-ws|https] [--property k=v]... [--content-type T]"

    /// What every message needs, set up once before the first one.
    struct Plan {
        var count: UInt64
        var intervalMs: UInt64
        var properties: PropertyStorage
        var messageID: UnsafeMutableRawBufferPointer
        var payload: UnsafeMutableRawBufferPointer
        var runID: UInt32

        /// Formats message `sequence` (id and body) and returns its system properties and payload.
        func message(_ sequence: UInt64, wall: Int64) -> (TelemetrySystemProperties, UnsafeRawBufferPointer) {
            let idLength = HubTelemetry.formatMessageID(run: runID, sequence: sequence, into: messageID)
            let bodyLength = HubTelemetry.formatPayload(sequence: sequence, wall: wall, into: payload)
            var system = TelemetrySystemProperties()
            system.messageID = UnsafeRawBufferPointer(rebasing: messageID[0..<idLength])
            system.contentType = properties.contentType
            return (system, UnsafeRawBufferPointer(rebasing: payload[0..<bodyLength]))
        }
    }

    static func main() {
        var count: UInt64 = 10
        var intervalMs: UInt64 = 0
        var qos = MQTTQoS.atLeastOnce
        var transport = ExampleTransport.mqtt
        var contentType: String? = nil
        var propertyTexts: [String] = []
        var arguments = ExampleArguments()
        while arguments.hasMore {
            if let n = arguments.number(for: "--count", limit: 100_000_000, usage: usage) { count = n; continue }
            if let n = arguments.number(for: "--interval-ms", limit: 86_400_000, usage: usage) { intervalMs = n; continue }
            if let n = arguments.number(for: "--qos", limit: 1, usage: usage) { qos = n == 0 ? .atMostOnce : .atLeastOnce; continue }
            if let t = arguments.value(for: "--transport", usage: usage) { transport = ExampleTransport.parse(t, usage: usage); continue }
            if let p = arguments.value(for: "--property", usage: usage) { propertyTexts.append(p); continue }
            if let c = arguments.value(for: "--content-type", usage: usage) { contentType = c; continue }
            arguments.unknown(usage)
        }

        let store = ExampleOutbox.read()
        if store != nil, transport == .https {
            ExampleOutput.fail("IOTHUB_OUTBOX_FILE needs --transport mqtt or mqtt-ws (over HTTPS each message is acknowledged before the next)")
        }
        if store != nil, qos == .atMostOnce { ExampleOutput.fail("IOTHUB_OUTBOX_FILE needs --qos 1 (QoS 0 is never acknowledged)") }
        let environment = ExampleEnvironment.read(transport: transport)
        // All memory is set up here, before the first message.
        let platform = SystemPlatform()
        let plan = Plan(count: count, intervalMs: intervalMs, properties: PropertyStorage(propertyTexts, contentType: contentType, flag: "--property", usage: usage),
                        messageID: .allocate(byteCount: 32, alignment: 1), payload: .allocate(byteCount: 96, alignment: 1),
                        runID: platform.random32())
        switch transport {
        case .mqtt, .mqttWebSocket:
            if let store {
                sendThroughOutbox(plan, store: store, environment: environment, platform: platform)
            } else {
                sendOverMQTT(plan, qos: qos, environment: environment, platform: platform)
            }
        case .https: sendOverHTTPS(plan, environment: environment, platform: platform)
        }
        ExampleOutput.line("sent and acknowledged: ", Int64(count))
        Console.exit(0)
    }

    /// MQTT: keeps up to the in-flight window of QoS 1 messages outstanding; returns when all are acknowledged.
    static func sendOverMQTT(_ plan: Plan, qos: MQTTQoS, environment: ExampleEnvironment, platform: SystemPlatform) {
        var options = HubOptions()
        options.features = []
        guard let buffers = HubBuffers.allocate(maxMessage: 1_024, receive: 1_024, window: 8) else {
            ExampleOutput.fail("out of memory: could not allocate the hub buffers")
        }
        let client = environment.connectMQTT(buffers: buffers, options: options)
        // What every message carries is encoded once: the content type and the --property pairs.
        var fixed = TelemetrySystemProperties()
        fixed.contentType = plan.properties.contentType
        do throws(HubError) { try client.setTelemetryProperties(system: fixed, properties: plan.properties.list) } catch {
            ExampleOutput.fail("send failed: ", error.summary)
        }
        var route = MQTTTelemetryRoute(client: client, qos: qos)
        send(plan, over: &route, platform: platform)
    }

    /// HTTPS: one POST per message, each answered 204 before the next. Transient failures
    /// (network, timeouts, 429, 5xx) are retried with the same message id after the backoff or
    /// the hub's Retry-After (`HTTPSRetry`), until a streak of failures has lasted
    /// `IOTHUB_CONNECT_RETRY_S`; an authentication failure ends the program at once (exit 2),
    /// unless it refused an identity from `IOTHUB_DPS_CACHE_FILE`: then the device registers with
    /// DPS once and the message is sent again with the new identity (`reprovisionedHTTPS`).
    static func sendOverHTTPS(_ plan: Plan, environment: ExampleEnvironment, platform: SystemPlatform) {
        guard let buffers = HubHTTPSBuffers.allocate(request: 2_048, responseHeaders: 2_048, body: 1_024, identity: 1_024) else {
            ExampleOutput.fail("out of memory: could not allocate the hub buffers")
        }
        var route = HTTPSTelemetryRoute(client: environment.makeHTTPS(buffers: buffers, options: HubOptions()),
                                        environment: environment, buffers: buffers, properties: plan.properties.list)
        send(plan, over: &route, platform: platform)
    }

    /// The one sending loop of both protocols: formats message after message (a message that
    /// failed is formatted again with the same id), sends it when `route` may, and waits for the
    /// hub in between; returns once the hub acknowledged all of them, the connection closed.
    @inline(__always) // into each protocol's caller, as the two loops were: the platform stays on the stack
    static func send<Route: TelemetryRoute>(_ plan: Plan, over route: inout Route, platform: SystemPlatform) {
        let count = plan.count
        var sent: UInt64 = 0
        var accepted: UInt64 = 0
        var nextSendMs = platform.monotonicMs()
        while accepted < count {
            let now = platform.monotonicMs()
            // Nothing is formatted for a message that would not go out now.
            if sent < count, now >= nextSendMs, route.mayQueue(payloadCount: plan.payload.count) {
                let (system, payload) = plan.message(sent + 1, wall: platform.wallSeconds())
                do throws(HubError) {
                    if try route.send(payload, system: system) { accepted += 1 }
                    sent += 1
                    nextSendMs = now + plan.intervalMs
                    continue
                } catch {
                    guard let delay = route.failed(error, startedMs: now) else { continue }
                    nextSendMs = now + delay
                }
            }
            let waiting = sent < count && (plan.intervalMs > 0 || nextSendMs > now)
            route.wait(ms: waiting ? UInt64(max(1, Int64(nextSendMs) - Int64(now))) : 1_000, platform: platform) { accepted += 1 }
        }
        route.client.close()
    }

    /// `<run id in hex>-<sequence>`: unique per message and per run.
    static func formatMessageID(run: UInt32, sequence: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let hex: StaticString = "0123456789abcdef"
        for i in 0..<8 { buffer[i] = hex.utf8Start[Int((run >> UInt32(28 - 4 * i)) & 0xF)] }
        buffer[8] = 0x2D
        return 9 + Console.formatDecimal(Int64(sequence), into: UnsafeMutableRawBufferPointer(rebasing: buffer[9...]))
    }

    /// `{"seq":N,"time":T}`.
    static func formatPayload(sequence: UInt64, wall: Int64, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var length = 0
        func put(_ text: StaticString) {
            UnsafeMutableRawBufferPointer(rebasing: buffer[length..<(length + text.utf8CodeUnitCount)])
                .copyMemory(from: UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
            length += text.utf8CodeUnitCount
        }
        put("{\"seq\":")
        length += Console.formatDecimal(Int64(sequence), into: UnsafeMutableRawBufferPointer(rebasing: buffer[length...]))
        put(",\"time\":")
        length += Console.formatDecimal(wall, into: UnsafeMutableRawBufferPointer(rebasing: buffer[length...]))
        put("}")
        return length
    }
}
