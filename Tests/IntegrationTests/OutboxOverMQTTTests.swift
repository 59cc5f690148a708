import Foundation
import Testing
@testable import TinyHub
import TinyMQTT
import TinyPlatform
import TinyTLS

/// `TelemetryOutbox` over a real file (`StorageFile`) and a `HubClient` over real TLS to the IoT
/// Hub gate in front of mosquitto. The gate holds the PUBACKs back (`hold_acks`): the hub has the
/// messages, the device never hears so. The client and outbox are then dropped without another
/// poll (what the file holds is what a killed process leaves: every write went straight to the
/// operating system), and a new client and outbox over the same file must send the stored
/// messages first, with the same `$.mid` and bytes, before new ones. The examples' CLI contract
/// (Tests/CLIContract/test_outbox.py) does the same with a real SIGKILL.
@Suite struct OutboxOverMQTTTests {
    static func options() -> HubOptions {
        var options = HubOptions()
        options.features = []
        return options
    }

    /// Sends `payload` with `$.mid` = `id` (nil: the outbox makes one) through `outbox`.
    static func send(_ outbox: TelemetryOutbox<StorageFile>, _ hub: HubFixture, _ payload: String, id: String?) throws {
        let bytes = Array(payload.utf8), mid = Array((id ?? "").utf8)
        try bytes.withUnsafeBytes { payloadBytes in
            try mid.withUnsafeBytes { midBytes in
                var system = TelemetrySystemProperties()
                if id != nil { system.messageID = midBytes }
                try outbox.send(payloadBytes, system: system, through: hub.client)
            }
        }
    }

    static func pollUntil(_ what: String, _ outbox: TelemetryOutbox<StorageFile>, _ hub: HubFixture, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(20)
        while !condition() {
            guard Date() < deadline else { throw HarnessError("timed out waiting for \(what); events: \(hub.events.suffix(10))") }
            try outbox.poll(hub.client, timeoutMs: 100) { event in
                if case .telemetryAcknowledged(let id) = event { hub.acknowledged.append(id) }
                if case .connectionLost(let error) = event { hub.events.append("lost(\(error))") }
            }
        }
    }

    @Test func unacknowledgedMessagesSurviveTheClientAndGoOutFirstWithTheirIDs() throws {
        let gate = try IoTHubGate()
        let directory = try makeTemporaryDirectory(prefix: "tinyhub-outbox")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/outbox.bin"
        let buffers = try #require(OutboxBuffers.allocate(maxMessage: 1_024, window: 16))
        defer { buffers.deallocate() }

        try gate.control(["hold_acks": true])
        do {
            let hub = try HubFixture(gate: gate, options: Self.options())
            let outbox = try TelemetryOutbox(storage: try StorageFile.open(path: path, size: 4_096), buffers: buffers)
            #expect(outbox.recoveredCount == 0)
            hub.client.start()
            for i in 1...4 { try Self.send(outbox, hub, "{\"first\":\(i)}", id: "a-\(i)") }
            try Self.send(outbox, hub, "{\"first\":5}", id: nil)
            try Self.pollUntil("5 messages at the hub", outbox, hub) { gate.devicePublishes.count == 5 }
            #expect(outbox.pendingCount == 5 && hub.acknowledged.isEmpty)
        }
        let first = gate.devicePublishes
        #expect(gate.records.filter { $0.event == "puback" && $0.bool("held") == true }.count == 5, "the hub acknowledged, the device never heard")
        let generated = try #require(first.last?.string("topic")?.split(separator: "=").last.map(String.init))
        #expect(generated.count == 16 && generated.allSatisfy(\.isHexDigit), "an id made by the outbox: \(generated)")

        try gate.control(["hold_acks": false])
        do {
            let hub = try HubFixture(gate: gate, options: Self.options())
            let outbox = try TelemetryOutbox(storage: try StorageFile.open(path: path, size: 4_096), buffers: buffers)
            #expect(outbox.recoveredCount == 5 && outbox.pendingCount == 5)
            hub.client.start()
            for i in 1...2 { try Self.send(outbox, hub, "{\"second\":\(i)}", id: "b-\(i)") }
            try Self.pollUntil("everything acknowledged", outbox, hub) { outbox.pendingCount == 0 }
            #expect(outbox.recoveredPendingCount == 0)
        }
        let second = Array(gate.devicePublishes.dropFirst(5))
        #expect(second.count == 7)
        #expect(second.prefix(5).map { $0.string("topic") } == first.map { $0.string("topic") }, "recovered first, same ids")
        #expect(second.prefix(5).map(\.payload) == first.map(\.payload), "same bytes")
        #expect(second.dropFirst(5).map { $0.string("topic") ?? "" } == ["b-1", "b-2"].map { "devices/dev1/messages/events/%24.mid=\($0)" })
        #expect(gate.violations.isEmpty, "\(gate.violations)")

        // Everything was acknowledged: a third outbox over the file finds nothing to send.
        let outbox = try TelemetryOutbox(storage: try StorageFile.open(path: path, size: 4_096), buffers: buffers)
        #expect(outbox.recoveredCount == 0)
    }
}
