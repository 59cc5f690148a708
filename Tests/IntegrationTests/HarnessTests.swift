import Foundation
import Testing

/// Proves the integration-test harness itself with the real tools only (openssl, mosquitto,
/// mosquitto_sub, mosquitto_pub): no TinyHub code is involved here.
@Suite("Harness")
struct HarnessTests {
    // MARK: PKI

    @Test func serverCertificateVerifiesAgainstTestCAForLocalhost() throws {
        let pki = try TestPKI.shared()
        let result = try pki.verify(pki.server.certificatePath, caFile: pki.caCertificatePath, hostname: "localhost")
        #expect(result.passed, "\(result.output)")
        let text = try pki.text(pki.server.certificatePath)
        #expect(text.contains("DNS:localhost"))
        #expect(text.contains("Version: 3"))
        let caText = try pki.text(pki.caCertificatePath)
        #expect(caText.contains("CA:TRUE"))
        #expect(pki.server.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(pki.server.keyPEM.contains("PRIVATE KEY-----"))
        #expect(pki.server.certificateDER.first == 0x30) // DER SEQUENCE
    }

    @Test func expiredCertificateIsReallyExpired() throws {
        let pki = try TestPKI.shared()
        let notAfter = try #require(try pki.notAfter(pki.expiredServer.certificatePath))
        #expect(notAfter < Date())
        let result = try pki.verify(pki.expiredServer.certificatePath, caFile: pki.caCertificatePath)
        #expect(!result.passed)
        #expect(result.output.contains("expired"), "\(result.output)")
        // Same CA, same name: expiry is the only fault.
        let text = try pki.text(pki.expiredServer.certificatePath)
        #expect(text.contains("DNS:localhost"))
    }

    @Test func wrongCARejectsEveryCertificate() throws {
        let pki = try TestPKI.shared()
        for credential in [pki.server, pki.wrongNameServer, pki.client] {
            let result = try pki.verify(credential.certificatePath, caFile: pki.otherCACertificatePath)
            #expect(!result.passed, "\(credential.certificatePath) verified against the unrelated CA")
        }
        let untrusted = try pki.verify(pki.untrustedClient.certificatePath, caFile: pki.caCertificatePath)
        #expect(!untrusted.passed)
        let ownCA = try pki.verify(pki.untrustedClient.certificatePath, caFile: pki.otherCACertificatePath)
        #expect(ownCA.passed, "\(ownCA.output)")
    }

    @Test func wrongNameCertificateIsValidButNotForLocalhost() throws {
        let pki = try TestPKI.shared()
        let chain = try pki.verify(pki.wrongNameServer.certificatePath, caFile: pki.caCertificatePath)
        #expect(chain.passed, "\(chain.output)")
        let named = try pki.verify(pki.wrongNameServer.certificatePath, caFile: pki.caCertificatePath,
                                   hostname: "localhost")
        #expect(!named.passed)
        #expect(try pki.text(pki.wrongNameServer.certificatePath).contains("DNS:wrong.example"))
    }

    @Test func clientCertificateVerifies() throws {
        let pki = try TestPKI.shared()
        let result = try pki.verify(pki.client.certificatePath, caFile: pki.caCertificatePath)
        #expect(result.passed, "\(result.output)")
        #expect(try pki.text(pki.client.certificatePath).contains("TLS Web Client Authentication"))
    }

    @Test func rsaPKIWorksToo() throws {
        let pki = try TestPKI(keyType: .rsa2048)
        let result = try pki.verify(pki.server.certificatePath, caFile: pki.caCertificatePath, hostname: "localhost")
        #expect(result.passed, "\(result.output)")
        #expect(try pki.text(pki.server.certificatePath).contains("rsaEncryption"))
    }

    // MARK: Broker + clients

    @Test func publishSubscribeRoundTripOverTLS() throws {
        let broker = try MosquittoBroker()
        let tls = MosquittoClientTLS(caFile: broker.pki.caCertificatePath)
        let subscriber = try MosquittoSubscriber(port: broker.tlsPort, topic: "devices/d1/#", tls: tls)
        for index in 1...3 {
            try mosquittoPublish(port: broker.tlsPort, topic: "devices/d1/messages/events/", message: "hello \(index)",
                                 tls: tls)
        }
        let lines = subscriber.waitForLines(3)
        #expect(lines == (1...3).map { "devices/d1/messages/events/ hello \($0)" },
                "subscriber output:\n\(subscriber.output)\nbroker log:\n\(broker.log)")
    }

    @Test func dollarTopicsAndPlainListener() throws {
        let broker = try MosquittoBroker(plainListener: true)
        let plainPort = try #require(broker.plainPort)
        #expect(plainPort != broker.tlsPort)
        let subscriber = try MosquittoSubscriber(port: plainPort, topic: "$iothub/twin/res/#", tls: nil, verbose: false)
        try mosquittoPublish(port: broker.tlsPort, topic: "$iothub/twin/res/200/?$rid=1", message: "{}",
                             tls: MosquittoClientTLS(caFile: broker.pki.caCertificatePath))
        #expect(subscriber.waitForLines(1) == ["{}"], "\(subscriber.output)")
    }

    @Test func requireCertificateBroker() throws {
        let pki = try TestPKI.shared()
        let broker = try MosquittoBroker(requireCertificate: true)
        let withCert = MosquittoClientTLS(caFile: pki.caCertificatePath, clientCertificate: pki.client)
        let subscriber = try MosquittoSubscriber(port: broker.tlsPort, topic: "x/#", tls: withCert)
        try mosquittoPublish(port: broker.tlsPort, topic: "x/y", message: "with cert", tls: withCert)
        #expect(subscriber.waitForLines(1) == ["x/y with cert"])

        let anonymous = try runProcess(HarnessTools.mosquittoPub, ["-h", "localhost", "-p", String(broker.tlsPort),
            "-t", "x/y", "-m", "no cert", "--cafile", pki.caCertificatePath], timeout: 20)
        #expect(!anonymous.succeeded, "published without a client certificate")
        let untrusted = MosquittoClientTLS(caFile: pki.caCertificatePath, clientCertificate: pki.untrustedClient)
        let refused = try runProcess(HarnessTools.mosquittoPub, ["-h", "localhost", "-p", String(broker.tlsPort),
            "-t", "x/y", "-m", "untrusted"] + untrusted.arguments, timeout: 20)
        #expect(!refused.succeeded, "published with a certificate from an untrusted CA")
        // Neither refused message reached the broker: the next line the subscriber sees is the
        // one published after them with a trusted certificate.
        try mosquittoPublish(port: broker.tlsPort, topic: "x/y", message: "after", tls: withCert)
        #expect(subscriber.waitForLines(2) == ["x/y with cert", "x/y after"], "\(subscriber.output)")
    }

    @Test(arguments: [MosquittoBroker.ServerCertificate.wrongName, .expired])
    func clientsRejectBadServerCertificates(_ certificate: MosquittoBroker.ServerCertificate) throws {
        let broker = try MosquittoBroker(serverCertificate: certificate)
        let result = try runProcess(HarnessTools.mosquittoPub, ["-h", "localhost", "-p", String(broker.tlsPort),
            "-t", "t", "-m", "m", "--cafile", broker.pki.caCertificatePath], timeout: 20)
        #expect(!result.succeeded, "mosquitto_pub accepted a \(certificate) server certificate")
    }

    @Test func wrongTrustAnchorIsRejectedByTheClient() throws {
        let broker = try MosquittoBroker()
        let result = try runProcess(HarnessTools.mosquittoPub, ["-h", "localhost", "-p", String(broker.tlsPort),
            "-t", "t", "-m", "m", "--cafile", broker.pki.otherCACertificatePath], timeout: 20)
        #expect(!result.succeeded)
    }

    @Test func brokerStartFailureReportsTheLog() throws {
        do {
            _ = try MosquittoBroker(extraConfig: ["this_is_not_an_option 1"], startTimeout: 5)
            Issue.record("a broker with a broken config started")
        } catch let error as HarnessError {
            #expect(error.description.contains("this_is_not_an_option"), "\(error)")
        }
    }

    @Test func stopReleasesThePort() throws {
        let broker = try MosquittoBroker()
        #expect(Loopback.accepts(port: broker.tlsPort))
        broker.stop()
        #expect(!broker.isRunning)
        #expect(!Loopback.accepts(port: broker.tlsPort))
    }

    // MARK: FaultProxy

    @Test func roundTripThroughFaultProxy() throws {
        let broker = try MosquittoBroker()
        let proxy = try FaultProxy(targetPort: broker.tlsPort)
        let tls = MosquittoClientTLS(caFile: broker.pki.caCertificatePath)
        let subscriber = try MosquittoSubscriber(port: proxy.port, topic: "p/#", tls: tls)
        try mosquittoPublish(port: proxy.port, topic: "p/1", message: "through the proxy", tls: tls)
        #expect(subscriber.waitForLines(1) == ["p/1 through the proxy"], "\(subscriber.output)")
        #expect(proxy.acceptedConnections == 2)
        #expect(proxy.bytesClientToServer > 0 && proxy.bytesServerToClient > 0)
    }

    /// Raw MQTT over the broker's plain listener through the proxy, then a cut.
    @Test func cutAllConnectionsResetsLiveConnections() throws {
        let broker = try MosquittoBroker(plainListener: true)
        let proxy = try FaultProxy(targetPort: try #require(broker.plainPort))
        let fd = try #require(Loopback.connect(port: proxy.port))
        defer { close(fd) }
        // CONNECT: protocol "MQTT" level 4, clean session, keep-alive 60, client id "cut".
        let connect: [UInt8] = [0x10, 15, 0, 4, 0x4D, 0x51, 0x54, 0x54, 4, 0x02, 0, 60, 0, 3, 0x63, 0x75, 0x74]
        #expect(Loopback.sendAll(fd, connect))
        let connack = Loopback.read(fd, upTo: 4)
        #expect(connack.bytes == [0x20, 0x02, 0x00, 0x00], "broker log:\n\(broker.log)")
        #expect(proxy.activeConnections == 1)
        proxy.cutAllConnections()
        #expect(proxy.activeConnections == 0)
        let after = Loopback.read(fd, upTo: 1)
        #expect(after.closed && after.bytes.isEmpty)
        // New connections still work, over TLS too.
        let tlsProxy = try FaultProxy(targetPort: broker.tlsPort)
        try mosquittoPublish(port: tlsProxy.port, topic: "c/1", message: "after cut",
                             tls: MosquittoClientTLS(caFile: broker.pki.caCertificatePath))
        #expect(tlsProxy.acceptedConnections == 1)
    }

    @Test func dropAfterBytesForwardsExactlyNBytesThenCuts() throws {
        let sink = try TCPSink()
        let proxy = try FaultProxy(targetPort: sink.port)
        proxy.dropAfterBytes(20)
        let fd = try #require(Loopback.connect(port: proxy.port))
        defer { close(fd) }
        _ = Loopback.sendAll(fd, [UInt8](repeating: 0x41, count: 100)) // may fail part-way: the proxy cuts
        let after = Loopback.read(fd, upTo: 1)
        #expect(after.closed)
        #expect(sink.waitForBytes(20) == 20)
        #expect(proxy.bytesClientToServer == 20)

        proxy.dropAfterBytes(nil)
        let second = try #require(Loopback.connect(port: proxy.port))
        defer { close(second) }
        #expect(Loopback.sendAll(second, [UInt8](repeating: 0x42, count: 100)))
        #expect(sink.waitForBytes(120) == 120)
        #expect(proxy.acceptedConnections == 2)
    }

    @Test func refusingProxyResetsNewConnections() throws {
        let sink = try TCPSink()
        let proxy = try FaultProxy(targetPort: sink.port)
        proxy.acceptsConnections = false
        let fd = try #require(Loopback.connect(port: proxy.port)) // the kernel completes the handshake
        defer { close(fd) }
        #expect(Loopback.read(fd, upTo: 1).closed)
        #expect(proxy.acceptedConnections == 1)
        #expect(sink.acceptedConnections == 0)
        proxy.acceptsConnections = true
        let second = try #require(Loopback.connect(port: proxy.port))
        defer { close(second) }
        #expect(Loopback.sendAll(second, [1, 2, 3]))
        #expect(sink.waitForBytes(3) == 3)
        proxy.stop()
        #expect(!Loopback.accepts(port: proxy.port))
    }
}
