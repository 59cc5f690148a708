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

    @Test func moduleConnectsAsTheModuleAndSendsOnTheModuleTopic() throws {
        let gate = try IoTHubGate()
        let service = try MosquittoSubscriber(port: gate.broker.tlsPort, topic: "devices/dev1/modules/#", tls: gate.serviceTLS)
        var options = HubOptions()
        options.features = [.twin]
        options.getTwinOnConnect = false
        let hub = try HubFixture(gate: gate, moduleID: "filter", options: options)
        try hub.client.connect()
        try hub.pollUntil("subscriptions") { hub.events.contains("subscribed") }
        try hub.send("m", qos: .atMostOnce)
        #expect(service.waitForLines(1).first == "devices/dev1/modules/filter/messages/events/ m")
        let connect = try #require(gate.connects.first)
        #expect(connect.bool("accepted") == true, "\(connect)")
        #expect(connect.string("client_id") == "dev1/filter")
        #expect(connect.string("username") == "tinyhub-test.azure-devices.net/dev1/filter/?api-version=2020-09-30&DeviceClientType=tinyhub%2F0.2.0")
        #expect(connect.sas("sr") == "tinyhub-test.azure-devices.net%2Fdevices%2Fdev1%2Fmodules%2Ffilter")
        let subscribe = try #require(gate.subscribes.first)
        #expect(subscribe.filters.map { $0.0 } == ["$iothub/twin/res/#", "$iothub/twin/PATCH/properties/desired/#"])
        #expect(gate.devicePublishes.map { $0.string("topic") } == ["devices/dev1/modules/filter/messages/events/"])
        #expect(gate.devicePublishes.first?.int("qos") == 0)
    }

    @Test func deviceSubscribesToEveryFeatureAndAsksForTheTwin() throws {
        let gate = try IoTHubGate()
        let hub = try HubFixture(gate: gate)
        try hub.client.connect()
        try hub.pollUntil("twin GET") { gate.devicePublishes.contains { $0.string("topic")?.hasPrefix("$iothub/twin/GET/") == true } }
        let subscribe = try #require(gate.subscribes.first)
        #expect(subscribe.bool("accepted") == true)
        // C2D at QoS 1, twin and methods at QoS 0 (as the C SDK subscribes).
        #expect(subscribe.filters.map { "\($0.0) \($0.1)" } == ["devices/dev1/messages/devicebound/# 1", "$iothub/twin/res/# 0",
                                                               "$iothub/twin/PATCH/properties/desired/# 0", "$iothub/methods/POST/# 0"])
        let get = try #require(gate.devicePublishes.first { $0.string("topic")?.hasPrefix("$iothub/twin/GET/") == true })
        let topic = try #require(get.string("topic"))
        #expect(topic.hasPrefix("$iothub/twin/GET/?$rid="), "\(topic)")
        let rid = topic.dropFirst("$iothub/twin/GET/?$rid=".count)
        #expect(!rid.isEmpty && rid.allSatisfy { $0.isLetter || $0.isNumber }, "request id \(rid)")
        #expect(get.payload.isEmpty)
        #expect(gate.violations.isEmpty, "\(gate.violations)")
    }

    @Test func cloudToDeviceMessagesArriveWithDecodedProperties() throws {
        let gate = try IoTHubGate()
        var options = HubOptions()
        options.features = [.cloudToDevice]
        let hub = try HubFixture(gate: gate, options: options)
        try hub.client.connect()
        try hub.pollUntil("subscriptions") { hub.events.contains("subscribed") }
        try mosquittoPublish(port: gate.broker.tlsPort,
                             topic: "devices/dev1/messages/devicebound/%24.mid=abc&%24.to=%2Fdevices%2Fdev1%2Fmessages%2FdeviceBound&color=r%C3%A9d&flag&empty=",
                             message: "turn on", tls: gate.serviceTLS)
        try hub.pollUntil("C2D") { !hub.c2d.isEmpty }
        let message = hub.c2d[0]
        #expect(message.payload == "turn on")
        #expect(message.properties["$.mid"] == "abc")
        #expect(message.properties["$.to"] == "/devices/dev1/messages/deviceBound")
        #expect(message.properties["color"] == "réd")
        #expect(message.properties["flag"] == .some(nil), "bare key = null value")
        #expect(message.properties["empty"] == "")
        // The PUBACK that completes the message went back to the hub.
        let delivery = try #require(gate.records.first { $0.event == "publish" && $0.string("dir") == "down" })
        try hub.pollUntil("PUBACK to the hub") {
            gate.records.contains { $0.event == "puback" && $0.string("dir") == "up" && $0.int("packet_id") == delivery.int("packet_id") }
        }
    }

    @Test func directMethodIsAnsweredWithItsPayload() throws {
        let gate = try IoTHubGate()
        let service = try MosquittoSubscriber(port: gate.broker.tlsPort, topic: "$iothub/methods/res/#", tls: gate.serviceTLS)
        var options = HubOptions()
        options.features = [.methods]
        let hub = try HubFixture(gate: gate, options: options)
        try hub.client.connect()
        try hub.pollUntil("subscriptions") { hub.events.contains("subscribed") }
        try mosquittoPublish(port: gate.broker.tlsPort, topic: "$iothub/methods/POST/reboot/?$rid=42", message: "{\"delay\":5}", tls: gate.serviceTLS)
        try hub.pollUntil("method request") { !hub.methods.isEmpty }
        #expect(hub.methods[0].name == "reboot" && hub.methods[0].rid == "42" && hub.methods[0].payload == "{\"delay\":5}")
        #expect(service.waitForLines(1).first == "$iothub/methods/res/200/?$rid=42 {\"delay\":5}")
        #expect(gate.devicePublishes.contains { $0.string("topic") == "$iothub/methods/res/200/?$rid=42" && $0.payload == "{\"delay\":5}" })
    }

    @Test func twinGetReportedPatchAndDesiredNotifications() throws {
        let gate = try IoTHubGate()
        let broker = gate.broker
        let tls = gate.serviceTLS
        let requests = try MosquittoSubscriber(port: broker.tlsPort, topic: "$iothub/twin/+/#", tls: tls)
        var options = HubOptions()
        options.features = [.twin]
        let hub = try HubFixture(gate: gate, options: options)
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
        #expect(gate.devicePublishes.contains { $0.string("topic") == "$iothub/twin/PATCH/properties/reported/?$rid=\(patchID)" })
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
        let gate = try IoTHubGate()
        let broker = gate.broker
        let tls = gate.serviceTLS
        let proxy = try FaultProxy(targetPort: gate.port)
        let requests = try MosquittoSubscriber(port: broker.tlsPort, topic: "$iothub/twin/GET/#", tls: tls)
        var options = HubOptions()
        options.features = [.twin]
        let hub = try HubFixture(gate: gate, port: proxy.port, options: options)
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
        #expect(gate.connects.filter { $0.bool("accepted") == true }.count == 2, "the hub saw the reconnect")
    }

    @Test func unansweredTwinRequestTimesOut() throws {
        let gate = try IoTHubGate()
        var options = HubOptions()
        options.features = [.twin]
        options.twinRequestTimeoutMs = 300
        let hub = try HubFixture(gate: gate, options: options)
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

}
