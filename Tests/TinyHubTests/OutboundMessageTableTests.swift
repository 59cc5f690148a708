import Foundation
import Testing
@testable import TinyHub
import TinyMQTT
import TinyTLS

/// The system properties of a device-to-cloud message come from one table: the same message
/// gives the same properties in the MQTT property bag, the HTTPS headers and the batch JSON,
/// and the size limit counts them the same way over both protocols.
@Suite struct OutboundMessageTableTests {
    static let values: [OutboundSystemProperty: String] = [
        .messageID: "m-1", .correlationID: "c-1", .contentType: "application/json", .contentEncoding: "utf-8",
        .creationTime: "2024-01-02T03:04:05Z",
    ]

    func system(_ arena: Arena) -> TelemetrySystemProperties {
        var system = TelemetrySystemProperties()
        system.messageID = arena.bytes(Self.values[.messageID]!)
        system.correlationID = arena.bytes(Self.values[.correlationID]!)
        system.contentType = arena.bytes(Self.values[.contentType]!)
        system.contentEncoding = arena.bytes(Self.values[.contentEncoding]!)
        system.creationTime = arena.bytes(Self.values[.creationTime]!)
        return system
    }

    @Test func theTableVisitsEverySetPropertyOnceInOrder() {
        let arena = Arena()
        var seen: [OutboundSystemProperty] = []
        system(arena).forEach { property, value in
            seen.append(property)
            #expect(String(decoding: value, as: UTF8.self) == Self.values[property])
        }
        #expect(seen == OutboundSystemProperty.allCases)
        #expect(TelemetrySystemProperties().isEmpty)
        var one = TelemetrySystemProperties()
        one.contentType = arena.bytes("text/plain")
        #expect(!one.isEmpty)
        #expect(one.byteCount == 10)
    }

    @Test func theMQTTPropertyBagCarriesEachPropertyUnderItsTableName() throws {
        let arena = Arena()
        let buffers = try #require(HubBuffers.allocate())
        defer { buffers.deallocate() }
        let configuration = try HubConfiguration(connectionString: httpsConnectionString, storage: buffers.identity)
        let clock = HTTPSTestClock()
        let client = try HubClient(configuration: configuration, transport: FakeHTTPTransport(clock: clock), platform: clock,
                                   crypto: MbedTLSCrypto(), buffers: buffers)
        let (start, end) = try client.face.writeTelemetryTopic(payloadCount: 2, system: system(arena),
                                                          properties: arena.properties([("k", "v")]))
        var reader = PropertyBagReader(UnsafeRawBufferPointer(rebasing: buffers.topic[start..<end]))
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 1)
        defer { scratch.deallocate() }
        var bag: [String: String] = [:]
        while let property = try reader.next(scratch: scratch) {
            bag[String(decoding: property.name, as: UTF8.self)] = property.value.map { String(decoding: $0, as: UTF8.self) }
        }
        for property in OutboundSystemProperty.allCases {
            #expect(bag[String(describing: property.propertyBagName)] == Self.values[property], "\(property)")
        }
        #expect(bag == ["$.mid": "m-1", "$.cid": "c-1", "$.ct": "application/json", "$.ce": "utf-8",
                        "$.ctime": "2024-01-02T03:04:05Z", "k": "v"])
    }

    @Test func theHTTPSHeadersCarryEachPropertyUnderItsTableName() throws {
        let f = try FakeClient()
        try f.client.sendTelemetry(f.arena.bytes("{}"), system: system(f.arena))
        let head = try #require(f.transport.requests.first?.head)
        var headers: [String: String] = [:]
        for line in head.split(separator: "\r\n").dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            headers[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        for property in OutboundSystemProperty.allCases {
            #expect(headers[String(describing: property.headerName)] == Self.values[property], "\(property)")
        }
        #expect(headers["iothub-messageid"] == "m-1" && headers["iothub-creation-time-utc"] == "2024-01-02T03:04:05Z")
    }

    @Test func theBatchJSONCarriesEachPropertyUnderItsTableName() throws {
        let f = try FakeClient()
        let item = TelemetryBatchItem(payload: f.arena.bytes("{}"), system: system(f.arena))
        let length = try [item].withUnsafeBufferPointer { (items) throws(HubError) in try f.client.face.writeBatchBody(items) }
        let json = try JSONSerialization.jsonObject(with: Data(UnsafeRawBufferPointer(rebasing: f.buffers.body[0..<length])))
        let properties = try #require(((json as? [[String: Any]])?.first)?["properties"] as? [String: String])
        for property in OutboundSystemProperty.allCases {
            #expect(properties[String(describing: property.batchKey)] == Self.values[property], "\(property)")
        }
        #expect(properties["iothub-app-iothub-creation-time-utc"] == "2024-01-02T03:04:05Z")
    }

    /// System properties count toward the 256 KB over HTTPS as they do over MQTT.
    @Test func theSizeLimitCountsSystemPropertiesOverBothProtocols() throws {
        let arena = Arena()
        var system = TelemetrySystemProperties()
        system.messageID = arena.bytes("0123456789")
        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: HubLimits.maxTelemetryBytes - 5, alignment: 1)
        defer { payload.deallocate() }
        payload.initializeMemory(as: UInt8.self, repeating: 0x41)
        let f = try FakeClient()
        #expect(throws: HubError.self) { try f.client.sendTelemetry(UnsafeRawBufferPointer(payload), system: system) }
        #expect(f.transport.requests.isEmpty, "nothing was sent")
        #expect(throws: HubError.self) {
            try HubLimits.checkTelemetrySize(payloadCount: payload.count, system: system,
                                             properties: UnsafeBufferPointer(start: nil, count: 0))
        }
        try HubLimits.checkTelemetrySize(payloadCount: payload.count, system: TelemetrySystemProperties(),
                                         properties: UnsafeBufferPointer(start: nil, count: 0))
    }
}

/// Payloads as Swift gives them, sent byte for byte.
@Suite struct TelemetryPayloadTests {
    @Test func stringStaticStringAndSpanPayloadsOverHTTPS() throws {
        let f = try FakeClient()
        try f.client.sendTelemetry(#"{"a":1}"#)
        let literal: StaticString = "x"   // one scalar: a StaticString without a pointer
        try f.client.sendTelemetry(literal)
        let bytes: [UInt8] = [0, 1, 2, 255]
        try f.client.sendTelemetry(bytes.span.bytes)
        #expect(f.transport.requests.map(\.body) == [Array(#"{"a":1}"#.utf8), [0x78], [0, 1, 2, 255]])
    }

    @Test func anMQTTSendBeforeConnectingIsMatchedOneLevelDeep() throws {
        let buffers = try #require(HubBuffers.allocate())
        defer { buffers.deallocate() }
        let configuration = try HubConfiguration(connectionString: httpsConnectionString, storage: buffers.identity)
        let clock = HTTPSTestClock()
        let client = try HubClient(configuration: configuration, transport: FakeHTTPTransport(clock: clock), platform: clock, crypto: MbedTLSCrypto(),
                                   buffers: buffers)
        do throws(HubError) {
            try client.sendTelemetry("{}", qos: .atMostOnce)
            Issue.record("sent without a connection")
        } catch {
            guard case .notConnected = error else { Issue.record("\(error)"); return }
        }
    }
}
