import Foundation
import Testing
import TinyHub
import TinyMQTT
import TinyPlatform
import TinyTLS
import TinyWebSocket

/// The IoT Hub client over `WebSocketTransport` over real TLS to the WebSocket endpoint fixture
/// (`Tests/Fixtures/websocket_bridge.py`), which checks the upgrade and every device frame the way
/// IoT Hub does and relays MQTT to the IoT Hub gate in front of a real mosquitto. What the hub
/// side sees is read from the gate's and the endpoint's records, written by them.
@Suite struct HubOverWebSocketTests {
    typealias WSHub = HubFixtureOf<WebSocketTransport<TLSTransport>>

    func hub(_ bridge: WebSocketBridge, features: HubFeatures = [], configure: (inout HubOptions) -> Void = { _ in }) throws -> WSHub {
        var options = HubOptions()
        options.features = features
        configure(&options)
        return try WSHub(transport: try bridge.transport(), options: options)
    }

    @Test func telemetryAtQoS1InMaskedBinaryFrames() throws {
        let gate = try IoTHubGate()
        let bridge = try WebSocketBridge(gate: gate)
        let service = try MosquittoSubscriber(port: gate.broker.tlsPort, topic: "devices/dev1/messages/events/#", tls: gate.serviceTLS)
        let hub = try hub(bridge)
        try hub.client.connect()
        var ids: [UInt16] = []
        for i in 1...5 { ids.append(try hub.send("{\"n\":\(i)}", messageID: "ws-\(i)")) }
        try hub.pollUntil("PUBACKs") { Set(hub.acknowledged).isSuperset(of: ids) }
        #expect(gate.devicePublishes.map(\.payload) == (1...5).map { "{\"n\":\($0)}" })
        #expect(gate.devicePublishes.allSatisfy { $0.bool("accepted") == true && $0.int("qos") == 1 })
        #expect(gate.violations.isEmpty, "\(gate.violations)")
        #expect(Set(service.waitForLines(5)) == Set((1...5).map { "devices/dev1/messages/events/%24.mid=ws-\($0) {\"n\":\($0)}" }))
        // The upgrade as IoT Hub wants it for a SAS device.
        let upgrade = try #require(bridge.upgrades.first)
        #expect(upgrade.bool("accepted") == true && upgrade.int("status") == 101, "\(upgrade)")
        #expect(upgrade.string("path") == "/$iothub/websocket" && upgrade.string("query") == "iothub-no-client-cert=true")
        #expect(upgrade.string("protocols") == "mqtt" && upgrade.string("version") == "13" && upgrade.string("host") == "localhost")
        // Every device frame masked (the endpoint would have closed otherwise), each with its own key.
        let frames = bridge.upFrames
        #expect(frames.count >= 6, "CONNECT and 5 PUBLISH: \(frames.count)")
        #expect(frames.allSatisfy { $0.bool("masked") == true && $0.int("opcode") == 2 && $0.bool("fin") == true })
        #expect(Set(frames.compactMap { $0.string("mask") }).count == frames.count, "a fresh masking key per frame")
        #expect(bridge.violations.isEmpty, "\(bridge.violations)")
        // disconnect: DISCONNECT, then the close handshake with 1000. The hub side ends the
        // connection on DISCONNECT too, so its close frame may cross the device's: the device's
        // status is then the endpoint's record of the reply (`anX509UpgradeWithItsCertificateIsAccepted`
        // checks a close the device starts alone).
        hub.client.disconnect()
        try waitFor("the device's close") { bridge.deviceCloseStatus != nil }
        #expect(bridge.deviceCloseStatus == 1000, "\(bridge.closes)")
    }

    @Test func cloudToDeviceMessageArrives() throws {
        let gate = try IoTHubGate()
        let bridge = try WebSocketBridge(gate: gate)
        let hub = try hub(bridge, features: [.cloudToDevice])
        try hub.client.connect()
        try hub.pollUntil("subscriptions") { hub.events.contains("subscribed") }
        try mosquittoPublish(port: gate.broker.tlsPort, topic: "devices/dev1/messages/devicebound/%24.mid=abc&color=r%C3%A9d",
                             message: "turn on", tls: gate.serviceTLS)
        try hub.pollUntil("C2D") { !hub.c2d.isEmpty }
        #expect(hub.c2d[0].payload == "turn on")
        #expect(hub.c2d[0].properties["$.mid"] == "abc" && hub.c2d[0].properties["color"] == "réd")
        let delivery = try #require(gate.records.first { $0.event == "publish" && $0.string("dir") == "down" })
        try hub.pollUntil("PUBACK to the hub") {
            gate.records.contains { $0.event == "puback" && $0.string("dir") == "up" && $0.int("packet_id") == delivery.int("packet_id") }
        }
    }

    @Test func twinGetAndReportedPatch() throws {
        let gate = try IoTHubGate()
        let bridge = try WebSocketBridge(gate: gate)
        let tls = gate.serviceTLS
        let requests = try MosquittoSubscriber(port: gate.broker.tlsPort, topic: "$iothub/twin/+/#", tls: tls)
        let hub = try hub(bridge, features: [.twin])
        try hub.client.connect()
        try hub.pollUntil("twin GET") { requests.lines.contains { $0.hasPrefix("$iothub/twin/GET/?$rid=") } }
        let get = requests.lines.first { $0.hasPrefix("$iothub/twin/GET/?$rid=") }!
        let rid = get.dropFirst("$iothub/twin/GET/?$rid=".count).split(separator: " ")[0]
        try mosquittoPublish(port: gate.broker.tlsPort, topic: "$iothub/twin/res/200/?$rid=\(rid)",
                             message: "{\"desired\":{\"rate\":5,\"$version\":7},\"reported\":{\"$version\":3}}", tls: tls, qos: 0)
        try hub.pollUntil("twin document") { !hub.twins.isEmpty }
        #expect(hub.twins[0].desiredVersion == 7)
        let patchID = try Array("{\"firmware\":\"1.0\"}".utf8).withUnsafeBytes { try hub.client.reportProperties($0) }
        try hub.pollUntil("reported PATCH") { requests.lines.contains { $0.hasPrefix("$iothub/twin/PATCH/properties/reported/") } }
        #expect(requests.lines.contains("$iothub/twin/PATCH/properties/reported/?$rid=\(patchID) {\"firmware\":\"1.0\"}"))
        try mosquittoPublish(port: gate.broker.tlsPort, topic: "$iothub/twin/res/204/?$rid=\(patchID)&$version=4", message: "",
                             tls: tls, qos: 0)
        try hub.pollUntil("204") { hub.events.contains("reported(\(patchID),4)") }
        try mosquittoPublish(port: gate.broker.tlsPort, topic: "$iothub/twin/PATCH/properties/desired/?$version=8",
                             message: "{\"rate\":10,\"$version\":8}", tls: tls, qos: 0)
        try hub.pollUntil("desired patch") { hub.events.contains("desired(8,{\"rate\":10,\"$version\":8})") }
    }

    @Test func directMethodIsAnswered() throws {
        let gate = try IoTHubGate()
        let bridge = try WebSocketBridge(gate: gate)
        let service = try MosquittoSubscriber(port: gate.broker.tlsPort, topic: "$iothub/methods/res/#", tls: gate.serviceTLS)
        let hub = try hub(bridge, features: [.methods])
        try hub.client.connect()
        try hub.pollUntil("subscriptions") { hub.events.contains("subscribed") }
        try mosquittoPublish(port: gate.broker.tlsPort, topic: "$iothub/methods/POST/reboot/?$rid=42", message: "{\"delay\":5}",
                             tls: gate.serviceTLS)
        try hub.pollUntil("method request") { !hub.methods.isEmpty }
        #expect(hub.methods[0].name == "reboot" && hub.methods[0].rid == "42")
        #expect(service.waitForLines(1).first == "$iothub/methods/res/200/?$rid=42 {\"delay\":5}")
    }

    /// The endpoint cuts the TCP connection while the hub holds back PUBACKs: the client
    /// reconnects (a new upgrade), resends every unacknowledged message with DUP, and every
    /// message reaches the service side.
    @Test func aCutConnectionLosesNothing() throws {
        let gate = try IoTHubGate()
        let bridge = try WebSocketBridge(gate: gate)
        let service = try MosquittoSubscriber(port: gate.broker.tlsPort, topic: "devices/dev1/messages/events/#", tls: gate.serviceTLS)
        let hub = try hub(bridge)
        try hub.client.connect()
        try gate.control(["hold_acks": true])
        var ids: [UInt16] = []
        for i in 1...4 { ids.append(try hub.send("cut-\(i)")) }
        try hub.pollUntil("the hub got all four") { gate.devicePublishes.count >= 4 }
        #expect(hub.acknowledged.isEmpty)
        try bridge.control(["cut": true])
        try gate.control(["hold_acks": false])
        try hub.pollUntil("PUBACKs after the reconnect") { Set(hub.acknowledged).isSuperset(of: ids) }
        #expect(hub.events.contains { $0.hasPrefix("lost(") }, "\(hub.events)")
        #expect(bridge.upgrades.filter { $0.bool("accepted") == true }.count == 2, "the reconnect ran a new handshake")
        #expect(bridge.closes.contains { $0.string("initiator") == "cut" })
        let resent = gate.devicePublishes.filter { $0.bool("dup") == true }
        #expect(Set(resent.map(\.payload)) == Set((1...4).map { "cut-\($0)" }), "\(gate.devicePublishes)")
        let delivered = Set(service.waitForLines(4).map { $0.split(separator: " ").last.map(String.init) ?? "" })
        #expect(delivered == Set((1...4).map { "cut-\($0)" }))
        #expect(gate.connects.filter { $0.bool("accepted") == true }.count == 2)
    }

    @Test func pingsAreAnsweredWithTheirPayload() throws {
        let gate = try IoTHubGate()
        let bridge = try WebSocketBridge(gate: gate, config: ["pings": true])
        let hub = try hub(bridge)
        try hub.client.connect()
        let id = try hub.send("ping me")
        try hub.pollUntil("PUBACK") { hub.acknowledged.contains(id) }
        try bridge.control(["ping": "explicit ping"])
        try hub.pollUntil("the explicit pong") { bridge.pongs.contains { $0.string("payload") == "explicit ping" } }
        let pongs = bridge.pongs
        #expect(pongs.count >= 3, "a ping before the CONNACK and the PUBACK frames, and the explicit one: \(pongs)")
        #expect(pongs.allSatisfy { $0.bool("expected") == true }, "each pong echoes a ping sent: \(pongs)")
        #expect(hub.client.session.stoppedBy == nil && !hub.events.contains { $0.hasPrefix("lost") })
    }

    /// The same exchange (CONNACK, SUBACK, twin document, C2D, PUBACK) with the endpoint's frames
    /// split every way: one byte per frame, fragmented messages, pings in between, frame headers
    /// split across TLS records, several packets coalesced in one frame.
    @Test(arguments: [
        ["frame_size": 1],
        ["frame_size": 1, "fragmented": true],
        ["frame_size": 2, "fragmented": true, "pings": true, "write_size": 1],
        ["frame_size": 5, "write_size": 3],
        ["coalesce_ms": 150],
    ] as [[String: Any & Sendable]])
    func framesSplitAtEveryBoundary(config: [String: Any & Sendable]) throws {
        let gate = try IoTHubGate()
        let bridge = try WebSocketBridge(gate: gate, config: config)
        let tls = gate.serviceTLS
        let requests = try MosquittoSubscriber(port: gate.broker.tlsPort, topic: "$iothub/twin/GET/#", tls: tls)
        let hub = try hub(bridge, features: [.twin, .cloudToDevice])
        try hub.client.connect()
        try hub.pollUntil("twin GET") { !requests.lines.isEmpty }
        let rid = requests.lines[0].dropFirst("$iothub/twin/GET/?$rid=".count).split(separator: " ")[0]
        let document = "{\"desired\":{\"text\":\"" + String(repeating: "x", count: 300) + "\",\"$version\":3},\"reported\":{\"$version\":1}}"
        try mosquittoPublish(port: gate.broker.tlsPort, topic: "$iothub/twin/res/200/?$rid=\(rid)", message: document, tls: tls, qos: 0)
        try mosquittoPublish(port: gate.broker.tlsPort, topic: "devices/dev1/messages/devicebound/%24.mid=split", message: "c2d over \(config)",
                             tls: tls)
        let id = try hub.send("telemetry over \(config)")
        try hub.pollUntil("twin, C2D and PUBACK") { !hub.twins.isEmpty && !hub.c2d.isEmpty && hub.acknowledged.contains(id) }
        #expect(hub.twinBodies.first == document)
        #expect(hub.c2d.first?.payload == "c2d over \(config)")
        #expect(!hub.events.contains { $0.hasPrefix("lost") }, "\(hub.events)")
        #expect(bridge.violations.isEmpty && gate.violations.isEmpty)
        if config["pings"] != nil { #expect(!bridge.pongs.isEmpty && bridge.pongs.allSatisfy { $0.bool("expected") == true }) }
    }

    /// A masked frame from the server: a typed error, a close frame with 1002 to the endpoint,
    /// the connection dropped; the client then reconnects with a new handshake.
    @Test func aHostileServerFrameIsATypedErrorAndTheConnectionCloses() throws {
        let gate = try IoTHubGate()
        let bridge = try WebSocketBridge(gate: gate)
        let transport = try bridge.transport()
        try transport.open(timeoutMs: 10_000)
        try bridge.control(["send_hex": "8281aabbccdd41"]) // FIN binary, MASK set: servers must not mask
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
        defer { buffer.deallocate() }
        var failure: TransportError? = nil
        let deadline = Date().addingTimeInterval(10)
        while failure == nil, Date() < deadline {
            do { _ = try transport.receive(into: buffer, timeoutMs: 200) } catch { failure = error }
        }
        #expect(failure == .webSocketProtocolViolation)
        #expect(transport.lastFrameError == .maskedServerFrame)
        #expect(!transport.isOpen && !transport.inner.isOpen)
        try waitFor("the device's close 1002") { bridge.closes.contains { $0.string("initiator") == "device" } }
        #expect(bridge.closes.first?.int("status") == 1002, "\(bridge.closes)")

        // Through the hub client: the loss is reported with the typed error, and it reconnects.
        let hub = try hub(bridge)
        try hub.client.connect()
        try bridge.control(["send_hex": "c20100"]) // RSV1 set
        try hub.pollUntil("loss and reconnect") {
            hub.events.contains { $0.hasPrefix("lost(") } && hub.events.filter { $0.hasPrefix("connected") }.count >= 1
                && bridge.upgrades.count >= 3
        }
        #expect(hub.events.contains { $0.contains("webSocketProtocolViolation") }, "\(hub.events)")
        #expect(hub.client.session.stoppedBy == nil)
    }

    @Test func theServersCloseIsAnsweredAndTheClientReconnects() throws {
        let gate = try IoTHubGate()
        let bridge = try WebSocketBridge(gate: gate)
        let hub = try hub(bridge)
        try hub.client.connect()
        try bridge.control(["close": 1001])
        try hub.pollUntil("loss") { hub.events.contains { $0.hasPrefix("lost(") } }
        #expect(hub.events.contains { $0.contains("closed") }, "\(hub.events)")
        try waitFor("the close reply") { bridge.closes.contains { $0.string("initiator") == "server" } }
        #expect(bridge.closes.first { $0.string("initiator") == "server" }?.int("reply") == 1001, "the status echoed: \(bridge.closes)")
        let id = try hub.send("after the close")
        try hub.pollUntil("PUBACK on the new connection") { hub.acknowledged.contains(id) }
        #expect(bridge.upgrades.count == 2)
    }

    @Test func anX509UpgradeWithoutACertificateIsRefused() throws {
        let gate = try IoTHubGate()
        let bridge = try WebSocketBridge(gate: gate, requireClientCertificate: true)
        let transport = try bridge.transport(clientCertificate: true)
        #expect(throws: TransportError.webSocketUpgradeRefused(status: 401)) { try transport.open(timeoutMs: 10_000) }
        #expect(TransportError.webSocketUpgradeRefused(status: 401).isRefusal)
        let upgrade = try #require(bridge.upgrades.first)
        #expect(upgrade.string("query") == "" && upgrade.string("reason") == "client-certificate", "\(upgrade)")
    }

    @Test func anX509UpgradeWithItsCertificateIsAccepted() throws {
        let gate = try IoTHubGate()
        let bridge = try WebSocketBridge(gate: gate, requireClientCertificate: true)
        let pki = gate.broker.pki
        let transport = try bridge.transport(clientCertificate: true,
                                             identity: .files(certificate: pki.client.certificatePath, key: pki.client.keyPath))
        try transport.open(timeoutMs: 10_000)
        #expect(transport.isOpen)
        transport.close()
        let upgrade = try #require(bridge.upgrades.first)
        #expect(upgrade.bool("accepted") == true && upgrade.string("query") == "", "no SAS query for X.509: \(upgrade)")
        try waitFor("the close handshake") { bridge.closes.contains { $0.string("initiator") == "device" } }
        #expect(bridge.closes.first?.int("status") == 1000)
    }

    @Test func sasRenewalReconnectsOverWebSockets() throws {
        let gate = try IoTHubGate()
        let bridge = try WebSocketBridge(gate: gate)
        let hub = try hub(bridge) { $0.sasLifetimeSeconds = 3_600 }
        try hub.client.connect()
        let first = try hub.send("before")
        try hub.pollUntil("PUBACK") { hub.acknowledged.contains(first) }
        hub.platform.wallOffset = 2_900 // past 80 % of the token's life
        try hub.pollUntil("renewal") { hub.events.contains("tokenRenewed") }
        let second = try hub.send("after")
        try hub.pollUntil("PUBACK after renewal") { hub.acknowledged.contains(second) }
        #expect(gate.connects.count == 2 && gate.connects.allSatisfy { $0.bool("accepted") == true }, "\(gate.connects)")
        #expect(bridge.upgrades.count == 2, "a new WebSocket connection for the new token")
        #expect(!hub.events.contains { $0.hasPrefix("lost") }, "\(hub.events)")
    }
}

/// The local stand-in's HTTPS fixture serves MQTT over WebSockets on its port, as IoT Hub does on 443.
@Test func theHTTPSPortAlsoServesMQTTOverWebSockets() throws {
    let gate = try IoTHubGate()
    let api = try HTTPSDeviceAPI(gate: gate, clockOffsetSeconds: 0,
                                 extraArguments: ["--websocket-target-port", String(gate.port), "--websocket-target-ca", gate.trust])
    let tls = try TLSTransport(TLSConfiguration(host: "localhost", port: api.port, trustAnchors: .file(gate.trust)))
    let ws = try WebSocketTransport(over: tls, configuration: WebSocketConfiguration(host: "localhost"))
    var options = HubOptions()
    options.features = []
    let hub = try HubFixtureOf(transport: ws, options: options)
    try hub.client.connect()
    let id = try hub.send("over 443")
    try hub.pollUntil("PUBACK") { hub.acknowledged.contains(id) }
    #expect(gate.devicePublishes.first?.payload == "over 443")
    #expect(try api.requestCount() == 0, "the upgrade is not a device REST request")
}

/// Waits (at most `seconds`) until `condition` holds; a bound on waiting, not a timing assertion.
private func waitFor(_ what: String, seconds: Double = 10, _ condition: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        guard Date() < deadline else { throw HarnessError("timed out waiting for \(what)") }
        usleep(20_000)
    }
}
