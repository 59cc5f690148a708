import Foundation
import Testing
import TinyMQTT
import TinyPlatform
import TinyTLS

/// Session resumption and the read-ahead against mosquitto (OpenSSL: session tickets and its
/// session cache), directly and through the CONNECT proxy fixture, over real TLS. Whether a
/// handshake resumed is what mbedTLS reports (`lastHandshakeResumed`).
@Suite struct TLSResumptionOverMosquittoTests {
    func configuration(_ broker: MosquittoBroker, proxy: ConnectProxy? = nil) -> TLSConfiguration {
        var configuration = TLSConfiguration(host: "localhost", port: broker.tlsPort, trustAnchors: .file(broker.pki.caCertificatePath),
                                             proxy: proxy?.configuration())
        configuration.sessionCacheBytes = 4_096
        return configuration
    }

    /// An MQTT session over `transport`: connect, one QoS 1 publish acknowledged, disconnect.
    func publishOnce(_ transport: TLSTransport, clientID: String) throws {
        let buffers = try #require(MQTTBuffers.allocate(transmit: 512, receive: 512, inflightBytes: 1_024, inflightWindow: 4))
        defer { buffers.deallocate() }
        let session = MQTTSession(transport: transport, platform: SystemPlatform(), buffers: buffers)
        let id = Array(clientID.utf8)
        _ = try id.withUnsafeBytes { try session.connect(MQTTConnectOptions(clientID: $0)) }
        let topic = Array("resumption/test".utf8), payload = Array("hello".utf8)
        let packet = try topic.withUnsafeBytes { t in try payload.withUnsafeBytes { p in try session.publish(topic: t, payload: p, qos: .atLeastOnce) } }
        var acknowledged = false
        for _ in 0..<100 where !acknowledged {
            try session.poll(timeoutMs: 100) { event in if case .delivered(packet) = event { acknowledged = true } }
        }
        #expect(acknowledged)
        session.disconnect()
    }

    @Test func mqttReconnectsResumeTheTLSSession() throws {
        let broker = try MosquittoBroker()
        let transport = try TLSTransport(configuration(broker))
        try publishOnce(transport, clientID: "resume-1")
        #expect(!transport.lastHandshakeResumed)
        try publishOnce(transport, clientID: "resume-1")
        #expect(transport.lastHandshakeResumed)
        // A later run of the program, given the stored session.
        let record = Array(transport.storedSession)
        let later = try TLSTransport(configuration(broker))
        #expect(record.withUnsafeBytes { later.restoreSession($0) })
        try publishOnce(later, clientID: "resume-2")
        #expect(later.lastHandshakeResumed)
    }

    @Test func throughTheProxyTheSessionIsResumedToo() throws {
        let broker = try MosquittoBroker()
        let proxy = try ConnectProxy()
        let transport = try TLSTransport(configuration(broker, proxy: proxy))
        try publishOnce(transport, clientID: "resume-proxy")
        #expect(!transport.lastHandshakeResumed)
        try publishOnce(transport, clientID: "resume-proxy")
        #expect(transport.lastHandshakeResumed)
        #expect(proxy.records.count == 2)
    }

    @Test func withoutTheReadAheadEverythingStillWorks() throws {
        let broker = try MosquittoBroker()
        var plain = configuration(broker)
        plain.readAheadBytes = 0
        let transport = try TLSTransport(plain)
        try publishOnce(transport, clientID: "no-read-ahead")
        try publishOnce(transport, clientID: "no-read-ahead")
        #expect(transport.lastHandshakeResumed)
    }
}
