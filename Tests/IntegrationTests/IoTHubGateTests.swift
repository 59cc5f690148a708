import Foundation
import Testing

/// The IoT Hub gate itself: it accepts a CONNECT built here by hand from IoT Hub's documented
/// formats (so it does not merely agree with TinyHub), and it refuses or cuts what the hub
/// refuses. Without these, a gate that let everything through would pass the hub tests.
@Suite struct IoTHubGateTests {
    static let username = "tinyhub-test.azure-devices.net/dev1/?api-version=2020-09-30&DeviceClientType=hand%2Fmade"

    func token(expiry: Int = Int(Date().timeIntervalSince1970) + 600, key: String = HubFixture.key) throws -> String {
        try RawMQTTClient.sasToken(resource: "tinyhub-test.azure-devices.net/devices/dev1", key: key, expiry: expiry)
    }

    /// Connects by hand; returns the client and the CONNACK return code.
    func connect(_ gate: IoTHubGate, clientID: String = "dev1", username: String? = IoTHubGateTests.username,
                 password: String?, cleanSession: Bool = false, level: UInt8 = 4) throws -> (RawMQTTClient, UInt8) {
        let client = try RawMQTTClient(port: gate.port, trust: gate.trust)
        try client.send(RawMQTTClient.connect(clientID: clientID, username: username, password: password,
                                              cleanSession: cleanSession, level: level))
        let connack = try client.read(4)
        #expect(Array(connack[0..<3]) == [0x20, 0x02, 0x00], "\(connack)")
        return (client, connack[3])
    }

    @Test func handMadeConnectIsAcceptedAndAllowedTrafficIsForwarded() throws {
        let gate = try IoTHubGate()
        let service = try MosquittoSubscriber(port: gate.broker.tlsPort, topic: "devices/dev1/messages/events/#", tls: gate.serviceTLS)
        let (client, code) = try connect(gate, password: try token())
        #expect(code == 0, "\(gate.connects)")
        try client.send(RawMQTTClient.publish("devices/dev1/messages/events/%24.mid=1&k=v%20w", "hello", qos: 1, packetID: 7))
        #expect(try client.read(4) == [0x40, 0x02, 0x00, 0x07], "PUBACK from mosquitto, through the gate")
        #expect(service.waitForLines(1).first == "devices/dev1/messages/events/%24.mid=1&k=v%20w hello")
        let publish = try #require(gate.devicePublishes.first)
        #expect(publish.bool("accepted") == true)
        #expect((publish.fields["properties"] as? [[String]]) == [["$.mid", "1"], ["k", "v w"]])
    }

    @Test(arguments: [
        ("api-version", "tinyhub-test.azure-devices.net/dev1/?api-version=2020-09-31&DeviceClientType=hand%2Fmade"),
        ("device-client-type", "tinyhub-test.azure-devices.net/dev1/?api-version=2020-09-30"),
        ("device-client-type", "tinyhub-test.azure-devices.net/dev1/?api-version=2020-09-30&DeviceClientType=hand/made"),
        ("username", "other-hub.azure-devices.net/dev1/?api-version=2020-09-30&DeviceClientType=hand%2Fmade"),
        ("username", "tinyhub-test.azure-devices.net/dev2/?api-version=2020-09-30&DeviceClientType=hand%2Fmade"),
        ("username", "tinyhub-test.azure-devices.net/dev1?api-version=2020-09-30&DeviceClientType=hand%2Fmade"),
        ("username", "tinyhub-test.azure-devices.net/dev1/?api-version=2020-09-30&DeviceClientType=x&extra=1"),
    ])
    func badUserNameIsRefusedWithConnack5(reason: String, username: String) throws {
        let gate = try IoTHubGate()
        let (client, code) = try connect(gate, username: username, password: try token())
        #expect(code == 5)
        #expect(client.waitForClose())
        #expect(gate.connects.first?.string("reason") == reason, "\(gate.connects)")
    }

    @Test func badTokensAndSessionsAreRefused() throws {
        let gate = try IoTHubGate()
        let now = Int(Date().timeIntervalSince1970)
        let wrongKey = Data("another key".utf8).base64EncodedString()
        let cases: [(String, String?, String, Bool)] = [
            ("signature-mismatch", try token(key: wrongKey), "dev1", false),
            ("expired", try token(expiry: now - 1), "dev1", false),
            ("no-password", nil, "dev1", false),
            ("token-format", "SharedAccessSignature sr=x", "dev1", false),
            ("resource-mismatch", try RawMQTTClient.sasToken(resource: "tinyhub-test.azure-devices.net/devices/dev2",
                                                             key: HubFixture.key, expiry: now + 600), "dev1", false),
            ("skn-not-accepted", try token() + "&skn=device", "dev1", false),
            ("unknown-identity", try token(), "dev2", false),
            ("clean-session", try token(), "dev1", true),
        ]
        for (reason, password, clientID, clean) in cases {
            let username = IoTHubGateTests.username.replacingOccurrences(of: "/dev1/", with: "/\(clientID)/")
            let (client, code) = try connect(gate, clientID: clientID, username: username, password: password, cleanSession: clean)
            #expect(code == 5, "\(reason)")
            #expect(client.waitForClose(), "\(reason)")
            #expect(gate.connects.last?.string("reason") == reason, "\(gate.connects.last.map { "\($0)" } ?? "no record")")
        }
        let (_, code) = try connect(gate, password: try token(), level: 3)
        #expect(code == 1, "MQTT 3.1 is refused with CONNACK 1")
        #expect(gate.connects.allSatisfy { $0.bool("accepted") == false })
    }

    @Test(arguments: [
        ("topic-not-allowed", RawMQTTClient.publish("devices/dev2/messages/events/", "x", qos: 1)),
        ("topic-not-allowed", RawMQTTClient.publish("tinyhub/anything", "x", qos: 0)),
        ("topic-not-allowed", RawMQTTClient.publish("$iothub/twin/GET/", "", qos: 0)),
        ("property-bag", RawMQTTClient.publish("devices/dev1/messages/events/time=12:00", "x", qos: 1)),
        ("property-bag", RawMQTTClient.publish("devices/dev1/messages/events/?k=v", "x", qos: 1)),
        ("property-bag", RawMQTTClient.publish("devices/dev1/messages/events/k=%2", "x", qos: 1)),
        ("qos2", RawMQTTClient.publish("devices/dev1/messages/events/", "x", qos: 2)),
        ("subscription-not-allowed", RawMQTTClient.subscribe("#", qos: 1)),
        ("subscription-not-allowed", RawMQTTClient.subscribe("devices/dev2/messages/devicebound/#", qos: 1)),
    ])
    func forbiddenTrafficClosesTheConnection(reason: String, packet: [UInt8]) throws {
        let gate = try IoTHubGate()
        let (client, code) = try connect(gate, password: try token())
        #expect(code == 0)
        try client.send(packet)
        #expect(client.waitForClose())
        #expect(gate.violations.map { $0.string("reason") } == [reason], "\(gate.violations)")
    }

    @Test(arguments: [
        ("malformed", [0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F] as [UInt8]),          // remaining length longer than 4 bytes
        ("packet-too-large", [0x30, 0xFF, 0xFF, 0xFF, 0x7F] as [UInt8]),          // 268 MB announced
        ("protocol", [0x20, 0x02, 0x00, 0x00] as [UInt8]),                        // CONNACK from a client
        ("malformed", RawMQTTClient.packet(0x10, RawMQTTClient.string("MQTT") + [4, 0x01, 0, 60] + RawMQTTClient.string("dev1"))),
        ("malformed", RawMQTTClient.packet(0x10, RawMQTTClient.string("MQTT") + [4, 0x80, 0, 60, 0x00, 0x04, 0x64])),
        ("malformed", RawMQTTClient.packet(0x10, [0x00, 0x04] + [0x4D, 0x51, 0xFF, 0x54] + [4, 0, 0, 60] + RawMQTTClient.string("dev1"))),
        ("protocol", RawMQTTClient.publish("devices/dev1/messages/events/", "before CONNECT", qos: 0)),
    ])
    func hostileBytesCloseOnlyTheirConnection(reason: String, bytes: [UInt8]) throws {
        let gate = try IoTHubGate()
        let hostile = try RawMQTTClient(port: gate.port, trust: gate.trust)
        try hostile.send(bytes)
        #expect(hostile.waitForClose())
        #expect(gate.violations.map { $0.string("reason") } == [reason], "\(gate.violations)")
        // The gate itself is unharmed: the next device connects.
        #expect(try connect(gate, password: try token()).1 == 0)
    }

    @Test func liveConnectionIsDroppedOnceItsTokenExpires() throws {
        let gate = try IoTHubGate()
        let (client, code) = try connect(gate, password: try token(expiry: Int(Date().timeIntervalSince1970) + 600))
        #expect(code == 0)
        try gate.setClockOffset(seconds: 700) // the hub's clock passes se
        #expect(client.waitForClose())
        #expect(gate.records.contains { $0.event == "close" && $0.string("reason") == "token-expired" }, "\(gate.records)")
    }

    @Test func injectedServerUnavailableAnswersTheNextConnects() throws {
        let gate = try IoTHubGate()
        try gate.refuseNextConnects(2, code: 3)
        #expect(try connect(gate, password: try token()).1 == 3)
        #expect(try connect(gate, password: try token()).1 == 3)
        #expect(try connect(gate, password: try token()).1 == 0)
        #expect(gate.connects.map { $0.string("reason") ?? "accepted" } == ["injected", "injected", "accepted"])
    }
}
