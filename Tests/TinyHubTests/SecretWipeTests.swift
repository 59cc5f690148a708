import Foundation
import Testing
@testable import TinyHub
import TinyMQTT
import TinyPlatform
import TinyTLS

/// Keys, SAS tokens and connection strings are overwritten with zeros wherever the memory
/// stays observable: the identity buffer when credentials are wiped or refused, and when a
/// client's init fails after copying the key in. (The stack scratch that holds a decoded key
/// is wiped through the same `zeroize` call; its survival of -Osize is checked by disassembly.)
@Suite struct SecretWipeTests {
    /// Caller-owned memory filled with a marker, so a zero proves a wipe, not a fresh page.
    final class Marked {
        let bytes: UnsafeMutableRawBufferPointer
        init(_ count: Int) {
            bytes = .allocate(byteCount: count, alignment: 8)
            bytes.initializeMemory(as: UInt8.self, repeating: 0xA5)
        }
        deinit { bytes.deallocate() }
        var isAllZero: Bool { bytes.allSatisfy { $0 == 0 } }
        func contains(_ text: String) -> Bool {
            let needle = Array(text.utf8)
            let hay = Array(bytes)
            guard hay.count >= needle.count else { return false }
            return (0...(hay.count - needle.count)).contains { Array(hay[$0..<($0 + needle.count)]) == needle }
        }
    }

    @Test func zeroizeClearsExactlyTheGivenBytes() {
        let marked = Marked(300)
        zeroize(UnsafeMutableRawBufferPointer(rebasing: marked.bytes[1..<299]))
        #expect(marked.bytes[0] == 0xA5 && marked.bytes[299] == 0xA5)
        #expect(marked.bytes[1..<299].allSatisfy { $0 == 0 })
        zeroize(UnsafeMutableRawBufferPointer(start: nil, count: 0)) // no-op, no crash
    }

    @Test func wipedCredentialsLeaveNoKeyNorToken() throws {
        let identity = Marked(1_024)
        var credentials = try withBytes(httpsConnectionString) { text throws(HubCredentialsError) in
            try HubCredentials(copying: text, into: identity.bytes, crypto: MbedTLSCrypto())
        }
        try credentials.renew(now: 1_700_000_000, lifetime: 3_600, renewPercent: 80)
        #expect(identity.contains(httpsTestKey))
        #expect(identity.contains("SharedAccessSignature sr="))
        credentials.wipe()
        #expect(identity.isAllZero)
    }

    @Test func aRefusedConnectionStringIsWipedFromTheIdentityBuffer() {
        let identity = Marked(512)
        // A valid key, but x509=true as well: parsed in the buffer, then refused.
        let text = "HostName=hub.example;DeviceId=dev1;SharedAccessKey=\(httpsTestKey);x509=true"
        #expect(throws: HubCredentialsError.self) {
            _ = try withBytes(text) { bytes throws(HubCredentialsError) in try HubCredentials(copying: bytes, into: identity.bytes, crypto: MbedTLSCrypto()) }
        }
        #expect(identity.isAllZero)
    }

    /// Room for the connection string (and the MQTT ids) but not for a SAS token: the init
    /// fails after the key was copied in, and must leave none of it behind.
    @Test(arguments: [120, 160, 200])
    func anHTTPSClientWhoseInitFailsLeavesNoKey(identitySize: Int) throws {
        let identity = Marked(identitySize), request = Marked(2_048), headers = Marked(1_024), body = Marked(1_024)
        let clock = HTTPSTestClock()
        let buffers = HubHTTPSBuffers(request: request.bytes, responseHeaders: headers.bytes, body: body.bytes, identity: identity.bytes)
        let storage = Marked(256)
        let configuration = try HubConfiguration(connectionString: httpsConnectionString, storage: storage.bytes)
        #expect(throws: HubError.self) {
            _ = try HubClient(configuration: configuration, transport: FakeHTTPTransport(clock: clock), platform: clock, crypto: MbedTLSCrypto(), buffers: buffers)
        }
        #expect(identity.isAllZero)
    }

    @Test(arguments: [120, 160, 200, 260])
    func anMQTTHubClientWhoseInitFailsLeavesNoKey(identitySize: Int) throws {
        let identity = Marked(identitySize), topic = Marked(512)
        let clock = HTTPSTestClock()
        let mqtt = try #require(MQTTBuffers.allocate(transmit: 1_024, receive: 1_024, inflightBytes: 1_024, inflightWindow: 2))
        defer { mqtt.deallocate() }
        let buffers = HubBuffers(mqtt: mqtt, identity: identity.bytes, topic: topic.bytes)
        let storage = Marked(256)
        let configuration = try HubConfiguration(connectionString: httpsConnectionString, storage: storage.bytes)
        #expect(throws: HubError.self) {
            _ = try HubClient(configuration: configuration, transport: FakeHTTPTransport(clock: clock), platform: clock, crypto: MbedTLSCrypto(), buffers: buffers)
        }
        #expect(identity.isAllZero)
    }

    @Test func aWorkingClientKeepsItsKeyUntilTheBuffersAreWiped() throws {
        // The control for the two tests above: with room enough, init succeeds and the key stays.
        let identity = Marked(2_048), request = Marked(2_048), headers = Marked(1_024), body = Marked(1_024)
        let clock = HTTPSTestClock()
        let buffers = HubHTTPSBuffers(request: request.bytes, responseHeaders: headers.bytes, body: body.bytes, identity: identity.bytes)
        let configuration = try HubConfiguration(connectionString: httpsConnectionString, storage: identity.bytes)
        let client = try HubClient(configuration: configuration, transport: FakeHTTPTransport(clock: clock), platform: clock, crypto: MbedTLSCrypto(), buffers: buffers)
        #expect(client.sasExpiry > 0)
        #expect(identity.contains(httpsTestKey))
    }

    @Test func aRefusedConfigurationIsWipedFromItsStorage() {
        let storage = Marked(512)
        let text = "HostName=hub.example;DeviceId=dev1;SharedAccessKey=\(httpsTestKey);x509=true"
        #expect(throws: HubError.self) { _ = try HubConfiguration(connectionString: text, storage: storage.bytes) }
        #expect(storage.isAllZero)
    }

    /// The configuration kept in the identity buffer itself: a client whose init fails wipes
    /// it there too.
    @Test(arguments: [120, 160])
    func aClientWhoseInitFailsWipesAConfigurationInItsIdentityBuffer(identitySize: Int) throws {
        let identity = Marked(identitySize), topic = Marked(512)
        let clock = HTTPSTestClock()
        let mqtt = try #require(MQTTBuffers.allocate(transmit: 1_024, receive: 1_024, inflightBytes: 1_024, inflightWindow: 2))
        defer { mqtt.deallocate() }
        let buffers = HubBuffers(mqtt: mqtt, identity: identity.bytes, topic: topic.bytes)
        let configuration = try HubConfiguration(connectionString: httpsConnectionString, storage: identity.bytes)
        #expect(identity.contains(httpsTestKey))
        #expect(throws: HubError.self) {
            _ = try HubClient(configuration: configuration, transport: FakeHTTPTransport(clock: clock), platform: clock, crypto: MbedTLSCrypto(), buffers: buffers)
        }
        #expect(identity.isAllZero)
    }
}
