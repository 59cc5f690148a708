import Foundation
import Testing
@testable import TinyHub
import TinyMQTT
import TinyPlatform
import TinyTLS

/// The IoT Hub client against mosquitto standing in for the hub: what goes on the wire
/// (topics, encoded property bags, user name), and the hub-side behaviours the tests play
/// with mosquitto_pub / mosquitto_sub (C2D, twin responses, method calls).
@Suite struct HubOverMQTTTests {
    let tlsArgs: (MosquittoBroker) -> MosquittoClientTLS = { MosquittoClientTLS(caFile: $0.pki.caCertificatePath) }

    @Test func connectCarriesTheIdentityIoTHubExpects() throws {
        let gate = try IoTHubGate()
        var options = HubOptions()
        options.features = []
        let before = Int(Date().timeIntervalSince1970)
        let hub = try HubFixture(gate: gate, options: options)
        let after = Int(Date().timeIntervalSince1970)
        try hub.client.connect()
        let connect = try #require(gate.connects.first)
        #expect(connect.bool("accepted") == true, "\(connect)")
        #expect(connect.string("client_id") == "dev1")
        // IoT Hub's MQTT user name: {HostName}/{deviceId}/?api-version=2020-09-30&DeviceClientType=<url-encoded>.
        #expect(connect.string("username") == "tinyhub-test.azure-devices.net/dev1/?api-version=2020-09-30&DeviceClientType=tinyhub%2F0.1.0")
        #expect(connect.bool("clean_session") == false)
        #expect(connect.int("keep_alive") == 240)
        #expect(connect.fields["will_topic"] is NSNull)
        // The password is a device-key SAS token for this device, valid for the default hour.
        #expect(connect.sas("sr") == "tinyhub-test.azure-devices.net%2Fdevices%2Fdev1")
        #expect(connect.sas("skn") == nil)
        let se = try #require(connect.sas("se").flatMap { Int($0) })
        #expect(se >= before + 3_600 && se <= after + 3_600, "se \(se), minted between \(before) and \(after)")
        let password = try #require(connect.string("password"))
        #expect(password.hasPrefix("SharedAccessSignature sr=tinyhub-test.azure-devices.net%2Fdevices%2Fdev1&sig="))
        #expect(password.hasSuffix("&se=\(se)"))
        // The signature, computed here with openssl: HMAC-SHA256(base64-decoded key, sr + "\n" + se).
        let sig = try #require(password.split(separator: "&").first { $0.hasPrefix("sig=") }?.dropFirst(4))
        let expected = try hmacSHA256Base64(key: HubFixture.key, message: "tinyhub-test.azure-devices.net%2Fdevices%2Fdev1\n\(se)")
        #expect(String(sig).removingPercentEncoding == expected)
        #expect(!String(sig).contains("+") && !String(sig).contains("/") && !String(sig).contains("="), "sig is URL-encoded")
    }

    @Test func telemetryTopicCarriesAnEncodedPropertyBag() throws {
        let gate = try IoTHubGate()
        let service = try MosquittoSubscriber(port: gate.broker.tlsPort, topic: "devices/dev1/messages/events/#", tls: gate.serviceTLS)
        var options = HubOptions()
        options.features = []
        let hub = try HubFixture(gate: gate, options: options)
        try hub.client.connect()
        let id = try hub.send("{\"t\":21.5}", messageID: "m-1", contentType: "application/json",
                              properties: [("time", "12:00 Z"), ("a&b", "c=d"), ("näme", "välue")])
        try hub.pollUntil("PUBACK") { hub.acknowledged.contains(id) }
        let topic = "devices/dev1/messages/events/%24.mid=m-1&%24.ct=application%2Fjson&time=12%3A00%20Z&a%26b=c%3Dd&n%C3%A4me=v%C3%A4lue"
        let publish = try #require(gate.devicePublishes.first)
        #expect(publish.string("topic") == topic)
        #expect(publish.int("qos") == 1 && publish.bool("retain") == false)
        #expect(publish.payload == "{\"t\":21.5}")
        #expect(publish.bool("accepted") == true && gate.violations.isEmpty, "\(gate.violations)")
        #expect(service.waitForLines(1).first == topic + " {\"t\":21.5}")
    }

    @Test func moduleTelemetryUsesTheModuleTopic() throws {
        let broker = try MosquittoBroker()
        let service = try MosquittoSubscriber(port: broker.tlsPort, topic: "devices/dev1/modules/#", tls: tlsArgs(broker))
        var options = HubOptions()
        options.features = [.twin]
        options.getTwinOnConnect = false
        let hub = try HubFixture(port: broker.tlsPort, trust: broker.pki.caCertificatePath, moduleID: "filter", options: options)
        try hub.client.connect()
        try hub.send("m", qos: .atMostOnce)
        #expect(service.waitForLines(1).first == "devices/dev1/modules/filter/messages/events/ m")
    }

    @Test func cloudToDeviceMessagesArriveWithDecodedProperties() throws {
        let broker = try MosquittoBroker()
        var options = HubOptions()
        options.features = [.cloudToDevice]
        let hub = try HubFixture(port: broker.tlsPort, trust: broker.pki.caCertificatePath, options: options)
        try hub.client.connect()
        try hub.pollUntil("subscriptions") { hub.events.contains("subscribed") }
        try mosquittoPublish(port: broker.tlsPort,
                             topic: "devices/dev1/messages/devicebound/%24.mid=abc&%24.to=%2Fdevices%2Fdev1%2Fmessages%2FdeviceBound&color=r%C3%A9d&flag&empty=",
                             message: "turn on", tls: tlsArgs(broker))
        try hub.pollUntil("C2D") { !hub.c2d.isEmpty }
        let message = hub.c2d[0]
        #expect(message.payload == "turn on")
        #expect(message.properties["$.mid"] == "abc")
        #expect(message.properties["$.to"] == "/devices/dev1/messages/deviceBound")
        #expect(message.properties["color"] == "réd")
        #expect(message.properties["flag"] == .some(nil), "bare key = null value")
        #expect(message.properties["empty"] == "")
    }

    @Test func directMethodIsAnsweredWithItsPayload() throws {
        let broker = try MosquittoBroker()
        let service = try MosquittoSubscriber(port: broker.tlsPort, topic: "$iothub/methods/res/#", tls: tlsArgs(broker))
        var options = HubOptions()
        options.features = [.methods]
        let hub = try HubFixture(port: broker.tlsPort, trust: broker.pki.caCertificatePath, options: options)
        try hub.client.connect()
        try hub.pollUntil("subscriptions") { hub.events.contains("subscribed") }
        try mosquittoPublish(port: broker.tlsPort, topic: "$iothub/methods/POST/reboot/?$rid=42", message: "{\"delay\":5}", tls: tlsArgs(broker))
        try hub.pollUntil("method request") { !hub.methods.isEmpty }
        #expect(hub.methods[0].name == "reboot" && hub.methods[0].rid == "42" && hub.methods[0].payload == "{\"delay\":5}")
        #expect(service.waitForLines(1).first == "$iothub/methods/res/200/?$rid=42 {\"delay\":5}")
    }

    @Test func twinGetReportedPatchAndDesiredNotifications() throws {
        let broker = try MosquittoBroker()
        let tls = tlsArgs(broker)
        let requests = try MosquittoSubscriber(port: broker.tlsPort, topic: "$iothub/twin/+/#", tls: tls)
        var options = HubOptions()
        options.features = [.twin]
        let hub = try HubFixture(port: broker.tlsPort, trust: broker.pki.caCertificatePath, options: options)
        try hub.client.connect()
        // The client asks for the twin once its subscriptions are in place.
        try hub.pollUntil("twin GET") { requests.lines.contains { $0.hasPrefix("$iothub/twin/GET/?$rid=") } }
        let get = requests.lines.first { $0.hasPrefix("$iothub/twin/GET/?$rid=") }!
        let rid = get.dropFirst("$iothub/twin/GET/?$rid=".count).split(separator: " ")[0]
        try mosquittoPublish(port: broker.tlsPort, topic: "$iothub/twin/res/200/?$rid=\(rid)",
                             message: "{\"desired\":{\"rate\":5,\"$version\":7},\"reported\":{\"$version\":3}}", tls: tls, qos: 0)
        try hub.pollUntil("twin document") { !hub.twins.isEmpty }
        #expect(hub.twins[0].desiredVersion == 7)
        #expect(hub.twins[0].desiredChanged == false, "first GET: nothing to compare with")

        let patch = Array("{\"firmware\":\"1.0\"}".utf8)
        let patchID = try patch.withUnsafeBytes { try hub.client.reportProperties($0) }
        try hub.pollUntil("reported PATCH") { requests.lines.contains { $0.hasPrefix("$iothub/twin/PATCH/properties/reported/") } }
        let line = requests.lines.first { $0.hasPrefix("$iothub/twin/PATCH/properties/reported/") }!
        #expect(line == "$iothub/twin/PATCH/properties/reported/?$rid=\(patchID) {\"firmware\":\"1.0\"}")
        try mosquittoPublish(port: broker.tlsPort, topic: "$iothub/twin/res/204/?$rid=\(patchID)&$version=4", message: "", tls: tls,
                             qos: 0, extraArguments: ["-n"].filter { _ in false })
        try hub.pollUntil("204") { hub.events.contains("reported(\(patchID),4)") }

        try mosquittoPublish(port: broker.tlsPort, topic: "$iothub/twin/PATCH/properties/desired/?$version=8",
                             message: "{\"rate\":10,\"$version\":8}", tls: tls, qos: 0)
        try hub.pollUntil("desired patch") { hub.events.contains { $0.hasPrefix("desired(8,") } }
        #expect(hub.events.contains("desired(8,{\"rate\":10,\"$version\":8})"))

        // An error status for a request is surfaced, not swallowed.
        let second = try hub.client.requestTwin()
        try mosquittoPublish(port: broker.tlsPort, topic: "$iothub/twin/res/429/?$rid=\(second)", message: "", tls: tls, qos: 0)
        try hub.pollUntil("429") { hub.events.contains("twinFailed(\(second),429)") }
    }

    @Test func twinIsFetchedAgainAfterAReconnectAndAMovedDesiredVersionIsReported() throws {
        let broker = try MosquittoBroker()
        let tls = tlsArgs(broker)
        let proxy = try FaultProxy(targetPort: broker.tlsPort)
        let requests = try MosquittoSubscriber(port: broker.tlsPort, topic: "$iothub/twin/GET/#", tls: tls)
        var options = HubOptions()
        options.features = [.twin]
        let hub = try HubFixture(port: proxy.port, trust: broker.pki.caCertificatePath, options: options)
        try hub.client.connect()
        func answerGet(number: Int, desiredVersion: Int) throws {
            try hub.pollUntil("twin GET \(number)") { requests.lines.count >= number }
            let rid = requests.lines[number - 1].dropFirst("$iothub/twin/GET/?$rid=".count).split(separator: " ")[0]
            try mosquittoPublish(port: broker.tlsPort, topic: "$iothub/twin/res/200/?$rid=\(rid)",
                                 message: "{\"desired\":{\"$version\":\(desiredVersion)},\"reported\":{\"$version\":1}}", tls: tls, qos: 0)
            try hub.pollUntil("twin document \(number)") { hub.twins.count >= number }
        }
        try answerGet(number: 1, desiredVersion: 7)
        #expect(hub.twins[0].desiredChanged == false)
        // The connection drops; a desired change made meanwhile produces no notification.
        proxy.cutAllConnections()
        try answerGet(number: 2, desiredVersion: 9)
        #expect(hub.events.contains { $0.hasPrefix("lost") })
        #expect(hub.twins[1].desiredVersion == 9)
        #expect(hub.twins[1].desiredChanged == true, "the client notices the version moved while it was away")
    }

    @Test func unansweredTwinRequestTimesOut() throws {
        let broker = try MosquittoBroker()
        var options = HubOptions()
        options.features = [.twin]
        options.twinRequestTimeoutMs = 300
        let hub = try HubFixture(port: broker.tlsPort, trust: broker.pki.caCertificatePath, options: options)
        try hub.client.connect()
        try hub.pollUntil("subscriptions") { hub.events.contains("subscribed") }
        // Nobody answers the automatic GET: it fails with status 0 once its deadline passes.
        try hub.pollUntil("timeout") { hub.events.contains { $0.hasPrefix("twinFailed(") && $0.hasSuffix(",0)") } }
        // An unanswered request means the connection is deaf: it is replaced, and the client
        // subscribes again on the new one.
        try hub.pollUntil("resubscribed") { hub.events.filter { $0 == "subscribed" }.count >= 2 }
        let lost = hub.events.firstIndex { $0.hasPrefix("lost") }
        #expect(lost != nil && hub.events[lost!...].contains("subscribed"))
    }

    @Test func keepAliveIsCappedAtWhatIoTHubHonours() {
        var options = HubOptions()
        options.keepAliveSeconds = 3_000
        #expect(options.effectiveKeepAlive == 1_177)
        options.keepAliveSeconds = 240
        #expect(options.effectiveKeepAlive == 240)
    }

    @Test func sasRenewalReconnectsWithoutLosingQoS1Messages() throws {
        let broker = try MosquittoBroker()
        let proxy = try FaultProxy(targetPort: broker.tlsPort)
        let service = try MosquittoSubscriber(port: broker.tlsPort, topic: "devices/dev1/messages/events/#", tls: tlsArgs(broker))
        var options = HubOptions()
        options.features = []
        options.sasLifetimeSeconds = 3_600
        let hub = try HubFixture(port: proxy.port, trust: broker.pki.caCertificatePath, options: options)
        try hub.client.connect()
        let firstExpiry = hub.client.sasExpiry
        var ids: [UInt16] = []
        for i in 1...40 {
            while true {
                do {
                    ids.append(try hub.send("before-\(i)"))
                    break
                } catch HubError.mqtt(.inflightWindowFull) {
                    try hub.poll(10)
                }
            }
            if i == 20 { hub.platform.wallOffset = 2_900 } // past 80 % of the token's life
            if i % 5 == 0 { try hub.poll(10) }
        }
        try hub.pollUntil("all PUBACKs") { Set(hub.acknowledged).isSuperset(of: ids) }
        #expect(hub.events.contains("tokenRenewed"))
        #expect(hub.client.sasExpiry >= firstExpiry + 2_900, "a fresh token")
        #expect(proxy.acceptedConnections == 2, "one clean reconnect for the renewal")
        #expect(!hub.events.contains { $0.hasPrefix("lost") }, "renewal is not a connection loss: \(hub.events)")
        let lines = Set(service.waitForLines(40))
        for i in 1...40 {
            #expect(lines.contains { $0.hasSuffix(" before-\(i)") }, "message \(i) arrived")
        }
    }

    @Test func wrongKeyIsRefusedBecauseOfTheKeyAndNotRetried() throws {
        let gate = try IoTHubGate()
        let proxy = try FaultProxy(targetPort: gate.port)
        let otherKey = Data("not the key the hub has for dev1".utf8).base64EncodedString()
        let hub = try HubFixture(gate: gate, port: proxy.port, key: otherKey)
        do {
            try hub.client.connect()
            Issue.record("connected with a token signed by the wrong key")
        } catch {
            #expect(error.isAuthenticationFailure, "\(error)")
        }
        #expect(throws: HubError.self) { try hub.poll(500) }
        #expect(throws: HubError.self) { try hub.poll(500) }
        #expect(proxy.acceptedConnections == 1, "no retry storm after CONNACK 5")
        // Everything else about the CONNECT was right: only the signature gave it away.
        let connects = gate.connects
        #expect(connects.count == 1)
        let connect = try #require(connects.first)
        #expect(connect.bool("accepted") == false && connect.int("code") == 5)
        #expect(connect.string("reason") == "signature-mismatch", "\(connect)")
        #expect(connect.sas("sr") == "tinyhub-test.azure-devices.net%2Fdevices%2Fdev1")
    }

    @Test func expiredTokenIsRefused() throws {
        // The hub's clock is two hours ahead: a fresh one-hour token has already expired there.
        let gate = try IoTHubGate(clockOffsetSeconds: 7_200)
        let hub = try HubFixture(gate: gate)
        do {
            try hub.client.connect()
            Issue.record("connected with an expired token")
        } catch {
            #expect(error.isAuthenticationFailure, "\(error)")
        }
        let connect = try #require(gate.connects.first)
        #expect(connect.bool("accepted") == false && connect.int("code") == 5)
        #expect(connect.string("reason") == "expired", "\(connect)")
    }
}
