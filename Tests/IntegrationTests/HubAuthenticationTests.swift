import Foundation
import Testing
import TinyHub
import TinyMQTT
import TinyTLS

/// What the hub client proves about itself in CONNECT, checked by the IoT Hub gate
/// (`IoTHubGate`): client id, user name, the SAS token (HMAC recomputed here with openssl),
/// its renewal, refusals for a wrong key or an expired token, and X.509 identities.
/// Expected wire values are written out here from IoT Hub's documented formats.
@Suite struct HubAuthenticationTests {
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
        #expect(connect.string("username") == "tinyhub-test.azure-devices.net/dev1/?api-version=2020-09-30&DeviceClientType=tinyhub%2F0.2.0")
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

    @Test func sasRenewalReconnectsWithAFreshTokenWithoutLosingQoS1Messages() throws {
        let gate = try IoTHubGate()
        let proxy = try FaultProxy(targetPort: gate.port)
        let service = try MosquittoSubscriber(port: gate.broker.tlsPort, topic: "devices/dev1/messages/events/#", tls: gate.serviceTLS)
        var options = HubOptions()
        options.features = []
        options.sasLifetimeSeconds = 3_600
        let hub = try HubFixture(gate: gate, port: proxy.port, options: options)
        try hub.client.connect()
        var ids: [UInt16] = []
        for i in 1...40 {
            while true {
                do {
                    ids.append(try hub.send("before-\(i)"))
                    break
                } catch HubError.inflightWindowFull {
                    try hub.poll(10)
                }
            }
            if i == 20 { hub.platform.wallOffset = 2_900 } // past 80 % of the token's life
            if i % 5 == 0 { try hub.poll(10) }
        }
        try hub.pollUntil("all PUBACKs") { Set(hub.acknowledged).isSuperset(of: ids) }
        #expect(hub.events.contains("tokenRenewed"))
        #expect(proxy.acceptedConnections == 2, "one clean reconnect for the renewal")
        #expect(!hub.events.contains { $0.hasPrefix("lost") }, "renewal is not a connection loss: \(hub.events)")
        // On the wire: a second CONNECT with a new token, accepted by the hub.
        let connects = gate.connects
        #expect(connects.count == 2)
        #expect(connects.allSatisfy { $0.bool("accepted") == true }, "\(connects)")
        let first = try #require(connects.first), second = try #require(connects.last)
        let firstExpiry = try #require(first.sas("se").flatMap { Int($0) })
        let secondExpiry = try #require(second.sas("se").flatMap { Int($0) })
        #expect(secondExpiry >= firstExpiry + 2_900, "the renewed token expires an hour after the moved clock")
        #expect(second.sas("sr") == "tinyhub-test.azure-devices.net%2Fdevices%2Fdev1")
        #expect(second.string("password") != first.string("password"))
        #expect(second.string("username") == first.string("username") && second.string("client_id") == "dev1")
        let sig = try #require(second.string("password")?.split(separator: "&").first { $0.hasPrefix("sig=") }?.dropFirst(4))
        let expected = try hmacSHA256Base64(key: HubFixture.key, message: "tinyhub-test.azure-devices.net%2Fdevices%2Fdev1\n\(secondExpiry)")
        #expect(String(sig).removingPercentEncoding == expected)
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
        for _ in 0..<2 { // the refusal is permanent: every poll reports it, none reconnects
            let error = #expect(throws: HubError.self) { try hub.poll(500) }
            guard case .connectionRefused(.notAuthorized)? = error else { Issue.record("\(String(describing: error))"); return }
        }
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

    @Test func x509DeviceConnectsWithItsCertificateAndNoPassword() throws {
        let pki = try TestPKI.shared()
        // CA-signed X.509: the certificate's CN is the device id.
        let gate = try IoTHubGate(identities: [IoTHubGate.Identity(id: pki.clientCommonName, key: nil)])
        let service = try MosquittoSubscriber(port: gate.broker.tlsPort, topic: "devices/#", tls: gate.serviceTLS)
        var options = HubOptions()
        options.features = [.cloudToDevice]
        let hub = try HubFixture(gate: gate, deviceID: pki.clientCommonName, key: nil,
                                 identity: .files(certificate: pki.client.certificatePath, key: pki.client.keyPath), options: options)
        try hub.client.connect()
        try hub.pollUntil("subscriptions") { hub.events.contains("subscribed") }
        let id = try hub.send("x509")
        try hub.pollUntil("PUBACK") { hub.acknowledged.contains(id) }
        #expect(service.waitForLines(1).first == "devices/test-device/messages/events/ x509")
        let connect = try #require(gate.connects.first)
        #expect(connect.bool("accepted") == true, "\(connect)")
        #expect(connect.string("client_id") == "test-device")
        #expect(connect.string("username") == "tinyhub-test.azure-devices.net/test-device/?api-version=2020-09-30&DeviceClientType=tinyhub%2F0.2.0")
        #expect(connect.fields["password"] is NSNull, "no password with X.509")
        #expect(connect.string("x509_subject_cn") == "test-device")
        #expect(gate.subscribes.first?.filters.map { $0.0 } == ["devices/test-device/messages/devicebound/#"])
    }

    @Test func x509DeviceWithoutItsCertificateIsRefused() throws {
        let pki = try TestPKI.shared()
        let gate = try IoTHubGate(identities: [IoTHubGate.Identity(id: pki.clientCommonName, key: nil)])
        let hub = try HubFixture(gate: gate, deviceID: pki.clientCommonName, key: nil)
        do {
            try hub.client.connect()
            Issue.record("connected without a certificate")
        } catch {
            #expect(error.isAuthenticationFailure, "\(error)")
        }
        let connect = try #require(gate.connects.first)
        #expect(connect.bool("accepted") == false && connect.int("code") == 5)
        #expect(connect.string("reason") == "x509-no-certificate", "\(connect)")
    }
}
