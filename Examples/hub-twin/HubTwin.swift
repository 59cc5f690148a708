import HubExampleSupport
import TinyHub
import TinyMQTT
import TinyPlatform
import TinyTLS

/// hub-twin [--transport mqtt|mqtt-ws] [--report k=v]... [--await-desired N]
///
/// Over MQTT: GETs the device twin and prints it as one stdout line `twin <json>`; sends
/// every `--report k=v` (split at the first `=`; the last of repeated keys wins) as ONE
/// reported-properties patch `{"k":"v",...}` (values as JSON strings) after the GET and
/// prints `reported version <v>` when the hub answers 204; prints each desired-properties
/// patch as `desired <json>`. Exits 0 once the twin was printed, the report (if any) was
/// acknowledged and N desired patches (default 0) were printed. Diagnostics go to stderr.
/// `--transport mqtt-ws`: MQTT over WebSockets on the HTTPS port (`IOTHUB_HTTPS_PORT`, default 443).
@main
struct HubTwin {
    static let usage: StaticString = "usage: hub-twin [--transport mqtt|mqtt-ws] [--report k=v]... [--await-desired N]"

    /// Largest twin document / desired patch accepted (IoT Hub's limit is larger; a bigger
    /// message ends the program with a clear line rather than a silent wait).
    static let receiveBytes = 16_384

    static func main() {
        var reports: [String] = []
        var awaitDesired: UInt64 = 0
        var transport = ExampleTransport.mqtt
        var arguments = ExampleArguments()
        while arguments.hasMore {
            if let t = arguments.value(for: "--transport", usage: usage) {
                transport = ExampleTransport.parse(t, usage: usage, https: false)
                continue
            }
            if let r = arguments.value(for: "--report", usage: usage) { reports.append(r); continue }
            if let n = arguments.number(for: "--await-desired", limit: 100_000_000, usage: usage) { awaitDesired = n; continue }
            arguments.unknown(usage)
        }
        let environment = ExampleEnvironment.read(transport: transport)

        // All memory is set up here: the patch is built once, before connecting.
        let pairs = PropertyStorage(reports, flag: "--report", usage: usage)
        let patch = buildPatch(pairs.list)
        var options = HubOptions()
        options.features = [.twin]
        options.getTwinOnConnect = true // the GET after every (re)connect is the twin this prints
        guard let buffers = HubBuffers.allocate(maxMessage: max(256, patch.count), receive: receiveBytes, window: 1) else {
            ExampleOutput.fail("out of memory: could not allocate the hub buffers")
        }
        let client = environment.connectMQTT(buffers: buffers, options: options)

        var subscribed = false
        var twinPrinted = false
        var needGet = false
        var reportID: UInt32? = nil
        var reportDone = reports.isEmpty
        var desired: UInt64 = 0
        var unanswered = 0 // twin requests lost to timeouts or reconnects
        while !(twinPrinted && reportDone && desired >= awaitDesired) {
            if subscribed, needGet, !twinPrinted {
                do throws(HubError) { _ = try client.requestTwin(); needGet = false } catch { sendFailed(error) }
            }
            if subscribed, twinPrinted, !reportDone, reportID == nil {
                do throws(HubError) { reportID = try client.reportProperties(patch) } catch { sendFailed(error) }
            }
            pollOrExit(client, timeoutMs: 1_000) { event in
                switch event {
                case .subscribed:
                    subscribed = true
                case .connectionLost(let error):
                    subscribed = false
                    reportConnectionEvent(.connectionLost(error))
                case .twin(let document):
                    if !twinPrinted {
                        ExampleOutput.record("twin", document.body)
                        twinPrinted = true
                    } else if document.desiredChanged {
                        ExampleOutput.note("hub-twin: desired properties changed while disconnected (see a new GET)")
                    }
                case .reportedPropertiesAccepted(let id, let version):
                    guard id == reportID, !reportDone else { break }
                    reportDone = true
                    Console.write("reported version ")
                    if let version { Console.write(int: version) } else { Console.write("unknown") }
                    Console.write("\n")
                case .twinRequestFailed(let id, let status):
                    if status != 0, id == reportID {
                        ExampleOutput.fail("hub-twin: the hub refused the reported properties, status ", Int64(status), "")
                    } else if status != 0 {
                        ExampleOutput.fail("hub-twin: the hub refused the twin GET, status ", Int64(status), "")
                    }
                    // No answer (timeout) or the connection was replaced: ask again, a few times.
                    unanswered += 1
                    if unanswered > 3 { ExampleOutput.fail("hub-twin: twin requests are not answered (timeouts)") }
                    if id == reportID { reportID = nil } else { needGet = true }
                case .desiredProperties(_, let body):
                    ExampleOutput.record("desired", body)
                    desired += 1
                case .messageDropped(let length):
                    ExampleOutput.fail("hub-twin: a twin message of ", Int64(length), " bytes exceeds the 16384-byte receive buffer")
                default:
                    reportConnectionEvent(event)
                }
            }
        }
        client.disconnect()
        Console.exit(0)
    }

    /// `{"k":"v",...}` in memory allocated once; a key given again replaces the earlier value.
    static func buildPatch(_ pairs: UnsafeBufferPointer<MessageProperty>) -> UnsafeRawBufferPointer {
        var bound = 2
        for pair in pairs { bound += 6 * (pair.name.count + pair.value.count) + 6 } // worst case: every byte \u00XX
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: bound, alignment: 1)
        var writer = JSONWriter(buffer: storage, maxDepth: 1)
        do throws(JSONError) {
            try writer.beginObject()
            for (index, pair) in pairs.enumerated() {
                var replacedLater = false
                for later in pairs[(index + 1)...] where later.name.elementsEqual(pair.name) { replacedLater = true }
                if replacedLater { continue }
                try writer.key(pair.name)
                try writer.string(pair.value)
            }
            try writer.endObject()
        } catch {
            ExampleOutput.fail("hub-twin: could not build the reported patch")
        }
        return writer.bytes
    }

    static func sendFailed(_ error: HubError) {
        switch error {
        case .notConnected, .tooManyPendingRequests: return // after the next (re)connect
        default: ExampleOutput.fail("hub-twin: twin request failed: ", error.summary)
        }
    }
}
