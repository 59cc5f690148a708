import HubExampleSupport
import TinyHub
import TinyMQTT
import TinyPlatform
import TinyTLS

/// hub-telemetry [--count N] [--interval-ms MS] [--qos 0|1] [--transport mqtt|https]
///               [--property k=v]... [--content-type T]
///
/// Sends N JSON messages, each with a unique message id, and exits 0 if and only if the
/// hub accepted all N (PUBACK for QoS 1), across reconnects and SAS renewals.
@main
struct HubTelemetry {
    static let usage: StaticString =
        "usage: hub-telemetry [--count N] [--interval-ms MS] [--qos 0|1] [--transport mqtt|https] [--property k=v]... [--content-type T]"

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
        if case .https = transport { ExampleOutput.fail("hub-telemetry: --transport https is not yet supported") }

        let environment = ExampleEnvironment.read()
        // All memory is set up here, before the first message.
        let properties = PropertyStorage(propertyTexts, usage: usage)
        let contentTypeBytes = contentType.map { StableBytes($0) }
        let messageID = UnsafeMutableRawBufferPointer.allocate(byteCount: 32, alignment: 1)
        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: 96, alignment: 1)
        var options = HubOptions()
        options.features = []
        guard let buffers = HubBuffers.allocate(maxMessage: 1_024, receive: 1_024, window: 8) else {
            ExampleOutput.fail("out of memory: could not allocate the hub buffers")
        }
        let client = environment.connectMQTT(buffers: buffers, options: options)
        let platform = SystemPlatform()
        let runID = platform.random32()

        var sent: UInt64 = 0
        var accepted: UInt64 = 0
        var nextSendMs = platform.monotonicMs()
        while accepted < count {
            let now = platform.monotonicMs()
            if sent < count, now >= nextSendMs, qos == .atMostOnce ? client.isConnected : true {
                sent += 1
                let idLength = formatMessageID(run: runID, sequence: sent, into: messageID)
                let bodyLength = formatPayload(sequence: sent, wall: platform.wallSeconds(), into: payload)
                var system = TelemetrySystemProperties()
                system.messageID = UnsafeRawBufferPointer(rebasing: messageID[0..<idLength])
                system.contentType = contentTypeBytes?.bytes
                do throws(HubError) {
                    try client.sendTelemetry(UnsafeRawBufferPointer(rebasing: payload[0..<bodyLength]), system: system,
                                             properties: properties.list, qos: qos)
                    if qos == .atMostOnce { accepted += 1 }
                    nextSendMs = now + intervalMs
                    continue
                } catch {
                    sent -= 1
                    if case .mqtt(.inflightWindowFull) = error {} else if case .mqtt(.notConnected) = error {} else {
                        ExampleOutput.fail("send failed: ", error.summary)
                    }
                }
            }
            let wait = sent < count && intervalMs > 0 ? UInt32(clamping: max(1, Int64(nextSendMs) - Int64(now))) : 1_000
            pollOrExit(client, timeoutMs: min(wait, 1_000)) { event in
                if case .telemetryAcknowledged = event { accepted += 1 } else { reportConnectionEvent(event) }
            }
        }
        client.disconnect()
        ExampleOutput.line("sent and acknowledged: ", Int64(accepted))
        Console.exit(0)
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
