import Testing
@testable import TinyHub
import TinyMQTT
import TinyTLS

/// A configuration is parsed once, from a connection string or its parts, and a client made
/// from it uses it as it is: the same identity, the same host to connect to.
@Suite struct HubConfigurationTests {
    final class Storage {
        let bytes: UnsafeMutableRawBufferPointer
        init(_ count: Int) { bytes = .allocate(byteCount: count, alignment: 8) }
        deinit { bytes.deallocate() }
    }

    @Test func fromAConnectionString() throws {
        let storage = Storage(256)
        let configuration = try HubConfiguration(connectionString: "HostName=hub.azure-devices.net;DeviceId=dev1;ModuleId=m1;SharedAccessKey=\(key)",
                                                 storage: storage.bytes)
        #expect(text(configuration.hostName) == "hub.azure-devices.net")
        #expect(text(configuration.deviceID) == "dev1")
        #expect(configuration.moduleID.map(text) == "m1")
        #expect(configuration.connectHostText == "hub.azure-devices.net")
        #expect(!configuration.usesX509)
        #expect(configuration.connectHost.baseAddress.map { UnsafeRawPointer(storage.bytes.baseAddress!) <= $0 } == true,
                "the fields are slices of the caller's storage")
    }

    @Test func theGatewayIsTheHostToConnectTo() throws {
        let storage = Storage(256)
        let configuration = try HubConfiguration(connectionString: "HostName=hub.azure-devices.net;DeviceId=dev1;GatewayHostName=edge;x509=true",
                                                 storage: storage.bytes)
        #expect(configuration.connectHostText == "edge")
        #expect(text(configuration.hostName) == "hub.azure-devices.net")
        #expect(configuration.usesX509)
    }

    @Test func fromPartsEqualsTheConnectionString() throws {
        let a = Storage(256), b = Storage(256)
        let parts = try HubConfiguration(hostName: "hub.azure-devices.net", deviceID: "dev1", moduleID: "m1",
                                         gatewayHostName: "edge", authentication: .sharedAccessKey(key), storage: a.bytes)
        let string = try HubConfiguration(connectionString: "HostName=hub.azure-devices.net;DeviceId=dev1;ModuleId=m1;GatewayHostName=edge;SharedAccessKey=\(key)",
                                          storage: b.bytes)
        #expect(text(parts.text) == text(string.text))
        let x509 = try HubConfiguration(hostName: "localhost", deviceID: "dev1", authentication: .x509, storage: a.bytes)
        #expect(text(x509.text) == "HostName=localhost;DeviceId=dev1;x509=true")
        #expect(x509.usesX509)
    }

    @Test func eachBadPartIsNamed() {
        let storage = Storage(256)
        #expect(throws: HubError.self) {
            _ = try HubConfiguration(hostName: "hub", deviceID: "a;b", authentication: .x509, storage: storage.bytes)
        }
        do {
            _ = try HubConfiguration(hostName: "hub", deviceID: "dev", authentication: .sharedAccessKey("not base64!"), storage: storage.bytes)
            Issue.record("accepted a key that is not Base64")
        } catch {
            #expect(String(describing: error.summary) == "invalid connection string: SharedAccessKey is not valid base64")
        }
        do {
            _ = try HubConfiguration(hostName: "hub", deviceID: "a;b", authentication: .x509, storage: storage.bytes)
        } catch {
            #expect(String(describing: error.summary) == "invalid connection string: a host name, id or key contains ';'")
        }
    }

    @Test func storageTooSmallIsAnError() {
        let storage = Storage(16)
        #expect(throws: HubError.self) {
            _ = try HubConfiguration(connectionString: "HostName=hub.azure-devices.net;DeviceId=dev1;x509=true", storage: storage.bytes)
        }
        #expect(throws: HubError.self) {
            _ = try HubConfiguration(hostName: "hub.azure-devices.net", deviceID: "dev1", authentication: .x509, storage: storage.bytes)
        }
    }

    /// A client made from a configuration kept elsewhere copies it into its identity buffer and
    /// names the same device; one kept in the identity buffer is used where it is.
    @Test(arguments: [false, true])
    func aClientUsesTheConfigurationAsItIs(inIdentityBuffer: Bool) throws {
        let buffers = try #require(HubBuffers.allocate())
        defer { buffers.deallocate() }
        let separate = Storage(256)
        let storage = inIdentityBuffer ? buffers.identity : separate.bytes
        let configuration = try HubConfiguration(connectionString: "HostName=hub.azure-devices.net;DeviceId=dev1;ModuleId=m1;Foo=bar;GatewayHostName=edge;SharedAccessKeyName=pol;SharedAccessKey=\(key)",
                                                 storage: storage)
        let clock = HTTPSTestClock()
        let client = try HubClient(configuration: configuration, transport: FakeHTTPTransport(clock: clock), platform: clock,
                                   crypto: MbedTLSCrypto(), buffers: buffers)
        #expect(text(client.connectHost) == "edge")
        #expect(text(client.connection.hostName) == "hub.azure-devices.net")
        #expect(text(client.connection.deviceID) == "dev1")
        #expect(client.connection.moduleID.map(text) == "m1")
        #expect(client.connection.sharedAccessKeyName.map(text) == "pol")
        #expect(client.connection.sharedAccessKey.map(text) == key)
        #expect(client.connection.firstUnknownKey.map(text) == "Foo")
        #expect(client.connection.unknownKeyCount == 1)
        #expect(!client.connection.usesX509)
        let identity = UnsafeRawBufferPointer(buffers.identity)
        #expect(client.connection.deviceID.baseAddress! >= identity.baseAddress!
                && client.connection.deviceID.baseAddress! < identity.baseAddress! + identity.count,
                "the client's fields point into its own identity buffer")
        #expect(client.sasExpiry > 0)
    }
}
