import Foundation
import Testing
import TinyHub
import TinyMQTT
import TinyPlatform
import TinyTLS

/// Every TLS connection through an HTTP CONNECT proxy (`Tests/Fixtures/connect_proxy.py`) in
/// front of the real stand-ins: the IoT Hub gate before mosquitto (MQTT) and the HTTPS device API,
/// over real TLS with openssl-made certificates. The proxy's log is what it received, written
/// by the proxy; expected values come from RFC 9110 §9.3.6 and RFC 7617.
@Suite struct ProxyTests {
    func mqttOptions() -> HubOptions {
        var options = HubOptions()
        options.features = []
        return options
    }

    @Test func telemetryOverMQTTGoesThroughTheTunnel() throws {
        let gate = try IoTHubGate()
        let proxy = try ConnectProxy()
        let hub = try HubFixture(gate: gate, options: mqttOptions(), proxy: proxy.configuration())
        try hub.client.connect()
        let id = try hub.send("{\"via\":\"proxy\"}", messageID: "p-1")
        try hub.pollUntil("PUBACK") { hub.acknowledged.contains(id) }
        #expect(gate.devicePublishes.first?.payload == "{\"via\":\"proxy\"}")
        #expect(gate.devicePublishes.first?.bool("accepted") == true)
        let records = proxy.records
        #expect(records.count == 1, "\(records)")
        // The destination is the hub's name and port; TLS (SNI, certificate) is checked for it,
        // not for the proxy's address 127.0.0.1, which the certificate does not hold.
        #expect(records.first?["request_line"] as? String == "CONNECT localhost:\(gate.port) HTTP/1.1")
        #expect(records.first?["host"] as? String == "localhost:\(gate.port)")
        #expect(records.first?["authorization"] is NSNull)
        #expect(records.first?["status"] as? Int == 200)
    }

    @Test func credentialsAreCheckedByTheProxy() throws {
        let gate = try IoTHubGate()
        let proxy = try ConnectProxy(user: "device-7", password: "pä55:word")
        let hub = try HubFixture(gate: gate, options: mqttOptions(), proxy: proxy.configuration(user: "device-7", password: "pä55:word"))
        try hub.client.connect()
        let id = try hub.send("with credentials")
        try hub.pollUntil("PUBACK") { hub.acknowledged.contains(id) }
        let record = try #require(proxy.records.first)
        #expect(record["authorization"] as? String == "Basic " + Data("device-7:pä55:word".utf8).base64EncodedString())
        #expect(record["user"] as? String == "device-7" && record["password"] as? String == "pä55:word")
        #expect(record["status"] as? Int == 200)
    }

    @Test func wrongCredentialsAre407AndThePermanentEndOfTheSession() throws {
        let gate = try IoTHubGate()
        let proxy = try ConnectProxy(user: "device-7", password: "right")
        let hub = try HubFixture(gate: gate, options: mqttOptions(), proxy: proxy.configuration(user: "device-7", password: "wrong"))
        hub.client.start()
        var final: HubError? = nil
        for _ in 0..<50 where final == nil {
            do { try hub.poll(100) } catch { final = error as? HubError }
        }
        guard case .transport(.proxyRefused(status: 407))? = final else {
            Issue.record("expected a final proxyRefused(407), got \(String(describing: final)); events \(hub.events)")
            return
        }
        #expect(final?.isAuthenticationFailure == false, "the proxy refused, not the hub")
        guard case .transport(.proxyRefused(status: 407))? = hub.client.session.stoppedBy else {
            Issue.record("session not stopped: \(String(describing: hub.client.session.stoppedBy))")
            return
        }
        // No reconnect follows: polling again throws the same refusal and asks the proxy nothing.
        #expect(throws: HubError.self) { try hub.poll(300) }
        #expect(proxy.records.count == 1, "\(proxy.records)")
        #expect(proxy.records.first?["status"] as? Int == 407)
        #expect(!hub.events.contains("reconnectScheduled"), "\(hub.events)")
        #expect(gate.connects.isEmpty, "the hub never saw the device")
    }

    @Test(arguments: [407, 403, 502])
    func aRefusalIsATypedPermanentError(status: Int) throws {
        let gate = try IoTHubGate()
        let proxy = try ConnectProxy(mode: "status", status: status)
        let hub = try HubFixture(gate: gate, options: mqttOptions(), proxy: proxy.configuration())
        do {
            try hub.client.connect()
            Issue.record("connected through a refusing proxy")
        } catch {
            guard case .transport(let transport) = error, transport == .proxyRefused(status: status) else {
                Issue.record("\(error)")
                return
            }
            #expect(transport.isRefusal)
        }
        #expect(proxy.records.count == 1)
    }

    @Test func aProxyThatCannotBeReachedIsTransient() throws {
        let gate = try IoTHubGate()
        let port = try Loopback.freePort()
        let hub = try HubFixture(gate: gate, options: mqttOptions(), proxy: ProxyConfiguration(host: "127.0.0.1", port: port))
        do {
            try hub.client.connect()
            Issue.record("connected through a proxy that is not there")
        } catch {
            guard case .transport(.connectionRefused) = error else { Issue.record("\(error)"); return }
        }
        // Through `start`, the same failure is a lost connection retried with the backoff.
        hub.client.start()
        try hub.pollUntil("a scheduled reconnect") { hub.events.contains("reconnectScheduled") }
        #expect(hub.events.contains { $0.hasPrefix("lost(") && $0.contains("connectionRefused") }, "\(hub.events)")
        #expect(hub.client.session.stoppedBy == nil)
    }

    /// What a TLS transport makes of answers that are not a usable tunnel.
    func openThrough(_ proxy: ConnectProxy, to gate: IoTHubGate, timeoutMs: Int32 = 10_000) throws -> TransportError? {
        let transport = try TLSTransport(TLSConfiguration(host: "localhost", port: gate.port, trustAnchors: .file(gate.trust),
                                                          proxy: proxy.configuration()))
        do {
            try transport.open(timeoutMs: timeoutMs)
            transport.close()
            return nil
        } catch {
            #expect(!transport.isOpen)
            return error
        }
    }

    @Test(arguments: ["garbage", "oversize", "early"])
    func answersThatAreNotATunnelAreTypedErrors(mode: String) throws {
        let gate = try IoTHubGate()
        let proxy = try ConnectProxy(mode: mode)
        #expect(try openThrough(proxy, to: gate) == .proxyInvalidResponse)
        #expect(gate.connects.isEmpty)
    }

    @Test func aTricklingProxyMeetsTheOpenDeadline() throws {
        let gate = try IoTHubGate()
        let proxy = try ConnectProxy(mode: "trickle")
        // The proxy would trickle its header line for 27 hours; the deadline ends the call.
        #expect(try openThrough(proxy, to: gate, timeoutMs: 700) == .timeout)
    }

    @Test func theCertificateIsCheckedForTheHubsNameNotTheProxys() throws {
        let gate = try IoTHubGate()
        let proxy = try ConnectProxy()
        // The proxy is reached as `localhost` (the name in the certificate), the hub as 127.0.0.1
        // (not in it): verification is for the destination, so the handshake must fail.
        let configuration = ProxyConfiguration(host: "localhost", port: proxy.port)
        let transport = try TLSTransport(TLSConfiguration(host: "127.0.0.1", port: gate.port, trustAnchors: .file(gate.trust),
                                                          proxy: configuration))
        #expect(throws: TransportError.hostnameMismatch) { try transport.open(timeoutMs: 10_000) }
        #expect(proxy.records.first?["request_line"] as? String == "CONNECT 127.0.0.1:\(gate.port) HTTP/1.1")
    }

    // MARK: - HTTPS

    func httpsClient(_ api: HTTPSDeviceAPI, proxy: ProxyConfiguration) throws -> (HubClient<HTTPSFace<TLSTransport, SystemPlatform>>, HubHTTPSBuffers) {
        let transport = try TLSTransport(TLSConfiguration(host: "localhost", port: api.port, trustAnchors: .file(api.trust), proxy: proxy))
        let buffers = try #require(HubHTTPSBuffers.allocate())
        let configuration = try HubConfiguration(connectionString: "HostName=\(IoTHubGate.hostName);DeviceId=dev1;SharedAccessKey=\(HubFixture.key)",
                                                 storage: buffers.identity)
        let client = try HubClient(configuration: configuration, transport: transport, platform: SystemPlatform(), crypto: MbedTLSCrypto(), buffers: buffers)
        return (client, buffers)
    }

    @Test func telemetryOverHTTPSGoesThroughTheTunnel() throws {
        let gate = try IoTHubGate()
        let api = try HTTPSDeviceAPI(gate: gate, clockOffsetSeconds: 0)
        let proxy = try ConnectProxy(user: "u", password: "p")
        let (client, buffers) = try httpsClient(api, proxy: proxy.configuration(user: "u", password: "p"))
        defer { buffers.deallocate() }
        try Array("over https".utf8).withUnsafeBytes { try client.sendTelemetry($0) }
        try Array("and again".utf8).withUnsafeBytes { try client.sendTelemetry($0) }
        #expect(try api.requestCount() == 2)
        // Both requests went over one kept-alive tunnel.
        #expect(proxy.records.count == 1, "\(proxy.records)")
        #expect(proxy.records.first?["request_line"] as? String == "CONNECT localhost:\(api.port) HTTP/1.1")
        #expect(proxy.records.first?["authorization"] as? String == "Basic dTpw") // base64("u:p")
    }

    @Test func anHTTPSRefusalIsNotTransient() throws {
        let gate = try IoTHubGate()
        let api = try HTTPSDeviceAPI(gate: gate, clockOffsetSeconds: 0)
        let proxy = try ConnectProxy(mode: "status", status: 407)
        let (client, buffers) = try httpsClient(api, proxy: proxy.configuration())
        defer { buffers.deallocate() }
        do {
            try Array("x".utf8).withUnsafeBytes { try client.sendTelemetry($0) }
            Issue.record("sent through a refusing proxy")
        } catch {
            guard let error = error as? HubError, case .transport(.proxyRefused(status: 407)) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(!error.isTransient && !error.isAuthenticationFailure)
        }
        #expect(try api.requestCount() == 0)
    }
}
