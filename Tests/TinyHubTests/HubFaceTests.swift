import Testing
@testable import TinyHub
import TinyMQTT
import TinyTLS

/// One `HubClient` type over either face, the face chosen by the buffers' type, and code
/// written once over `HubFace` running over both.
@Suite struct HubFaceTests {
    /// Written once, for any face: sends one reading and says who sent it.
    func sendReading<Face: HubFace>(_ client: HubClient<Face>) throws(HubError) -> (device: String, receipt: Face.TelemetryReceipt) {
        let receipt = try client.sendTelemetry(#"{"t":21}"# as StaticString)
        return (String(decoding: client.connection.deviceID, as: UTF8.self), receipt)
    }

    @Test func theBuffersChooseTheFaceAndSharedCodeRunsOverBoth() throws {
        let clock = HTTPSTestClock()

        // HubBuffers: the MQTT face. A QoS 1 message is queued before connecting; its receipt is the packet id.
        let mqttBuffers = try #require(HubBuffers.allocate())
        defer { mqttBuffers.deallocate() }
        let mqttConfiguration = try HubConfiguration(connectionString: httpsConnectionString, storage: mqttBuffers.identity)
        let mqtt: HubClient<MQTTFace<FakeHTTPTransport, HTTPSTestClock>> =
            try HubClient(configuration: mqttConfiguration, transport: FakeHTTPTransport(clock: clock), platform: clock,
                          crypto: MbedTLSCrypto(), buffers: mqttBuffers)
        let fromMQTT = try sendReading(mqtt)
        #expect(fromMQTT.device == "dev1")
        #expect(fromMQTT.receipt != 0)
        #expect(mqtt.session.inflightCount == 1)

        // HubHTTPSBuffers: the HTTPS face. The message is posted (and answered 204) before the call returns.
        let f = try FakeClient()
        let https: HubClient<HTTPSFace<FakeHTTPTransport, HTTPSTestClock>> = f.client
        let fromHTTPS: (device: String, receipt: Void) = try sendReading(https)
        #expect(fromHTTPS.device == "dev1")
        #expect(f.transport.requests.map(\.body) == [Array(#"{"t":21}"#.utf8)])

        // Face-only API exists only where its face is: `mqtt.requestTwin()`, `mqtt.poll(…)` and
        // `https.receive()` compile; `https.requestTwin()` or `mqtt.receive()` do not (there is no
        // such member on that client type), so they are not written here.
        #expect(https.nextPollInMs == 0)
        #expect(!mqtt.isConnected)
        do throws(HubError) {
            _ = try mqtt.requestTwin()
            Issue.record("a twin request without a connection")
        } catch {
            guard case .notConnected = error else { Issue.record("\(error)"); return }
        }
    }

    @Test func aClientIsAValueOverOneSharedFace() throws {
        let f = try FakeClient()
        let copy = f.client
        #expect(copy.face === f.client.face)
        let wrapped = HubClient(face: f.client.face)
        try wrapped.sendTelemetry("x")
        #expect(f.transport.requests.count == 1)
        #expect(f.client.connectionsOpened == 1)
    }
}
