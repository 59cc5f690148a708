import Foundation
import TinyHub
import TinyMQTT
import TinyPlatform
import TinyTLS

/// The real clock, with a wall clock the test can move forward (to reach SAS renewal time).
final class ShiftedPlatform: Platform {
    let system = SystemPlatform()
    var wallOffset: Int64 = 0
    func monotonicMs() -> UInt64 { system.monotonicMs() }
    func wallSeconds() -> Int64 { system.wallSeconds() + wallOffset }
    func random32() -> UInt32 { system.random32() }
    func sleep(ms: UInt32) { system.sleep(ms: ms) }
}

/// The fixture over TLS, as most tests use it.
typealias HubFixture = HubFixtureOf<TLSTransport>

/// A HubClient over real TLS (or another transport over it, such as WebSockets) to the IoT Hub
/// stand-in (`IoTHubGate`: the hub's MQTT face in front of mosquitto).
final class HubFixtureOf<T: Transport> {
    static var key: String { Data("tinyhub-integration-key-0123456789".utf8).base64EncodedString() }
    let client: HubClient<MQTTFace<T, ShiftedPlatform>>
    let platform = ShiftedPlatform()
    let buffers: HubBuffers
    var events: [String] = []
    var c2d: [(payload: String, properties: [String: String?])] = []
    var twins: [TwinDocument] = []
    var twinBodies: [String] = []
    var acknowledged: [UInt16] = []
    var methods: [(name: String, rid: String, payload: String)] = []
    var answerMethods = true

    /// - Parameters:
    ///   - transport: the transport to the stand-in (not opened).
    ///   - key: the SAS key in the connection string; nil = `x509=true`.
    convenience init(transport: T, deviceID: String = "dev1", moduleID: String? = nil, key: String? = HubFixture.key,
                     options: HubOptions = HubOptions(), receive: Int = 4_096) throws {
        var text = "HostName=\(IoTHubGate.hostName);GatewayHostName=localhost;DeviceId=\(deviceID)"
        text += key.map { ";SharedAccessKey=\($0)" } ?? ";x509=true"
        if let moduleID { text += ";ModuleId=\(moduleID)" }
        try self.init(transport: transport, connectionString: text, options: options, receive: receive)
    }

    /// A client with this whole connection string.
    init(transport: T, connectionString text: String, options: HubOptions = HubOptions(), receive: Int = 4_096) throws {
        let buffers = HubBuffers.allocate(maxMessage: 2_048, receive: receive, window: 16)!
        let platform = self.platform
        self.buffers = buffers
        let configuration = try HubConfiguration(connectionString: text, storage: buffers.identity)
        client = try HubClient(configuration: configuration, transport: transport, platform: platform, crypto: MbedTLSCrypto(), buffers: buffers, options: options)
    }

    deinit {
        client.disconnect()
        buffers.deallocate()
    }

    func poll(_ timeoutMs: UInt32 = 100) throws {
        try client.poll(timeoutMs: timeoutMs) { event in
            switch event {
            case .connected(let present): events.append("connected(\(present))")
            case .subscribed: events.append("subscribed")
            case .telemetryAcknowledged(let id): acknowledged.append(id)
            case .cloudToDevice(let message):
                var properties: [String: String?] = [:]
                var reader = PropertyBagReader(message.propertyBag ?? UnsafeRawBufferPointer(start: nil, count: 0))
                let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 512, alignment: 1)
                defer { scratch.deallocate() }
                while let property = try? reader.next(scratch: scratch) {
                    properties.updateValue(property.value.map { String(decoding: $0, as: UTF8.self) },
                                           forKey: String(decoding: property.name, as: UTF8.self))
                }
                c2d.append((String(decoding: message.payload, as: UTF8.self), properties))
            case .twin(let document):
                twins.append(document)
                twinBodies.append(String(decoding: document.body, as: UTF8.self))
            case .desiredProperties(let version, let body):
                events.append("desired(\(version),\(String(decoding: body, as: UTF8.self)))")
            case .reportedPropertiesAccepted(let rid, let version): events.append("reported(\(rid),\(version.map(String.init) ?? "nil"))")
            case .twinRequestFailed(let rid, let status): events.append("twinFailed(\(rid),\(status))")
            case .methodRequest(let request):
                let name = String(decoding: request.name, as: UTF8.self)
                let rid = String(decoding: request.requestID, as: UTF8.self)
                methods.append((name, rid, String(decoding: request.payload, as: UTF8.self)))
                if answerMethods {
                    do { try client.respondToMethod(requestID: request.requestID, status: 200, payload: request.payload) } catch {
                        events.append("respondFailed(\(error))")
                    }
                }
            case .tokenRenewed: events.append("tokenRenewed")
            case .clockAdjusted(let offset): events.append("clockAdjusted(\(offset))")
            case .connectionLost(let error): events.append("lost(\(error))")
            case .reconnectScheduled: events.append("reconnectScheduled")
            case .messageDropped(let length): events.append("dropped(\(length))")
            case .subscriptionRefused: events.append("subscriptionRefused")
            }
        }
    }

    func pollUntil(_ what: String, seconds: Double = 20, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            guard Date() < deadline else { throw HarnessError("timed out waiting for \(what); events: \(events.suffix(10))") }
            try poll()
        }
    }

    @discardableResult
    func send(_ payload: String, messageID: String? = nil, contentType: String? = nil, properties: [(String, String)] = [],
              qos: MQTTQoS = .atLeastOnce) throws -> UInt16 {
        let body = Array(payload.utf8)
        let mid = messageID.map { Array($0.utf8) } ?? []
        let ct = contentType.map { Array($0.utf8) } ?? []
        let names = properties.map { Array($0.0.utf8) }, values = properties.map { Array($0.1.utf8) }
        // Keep every byte array alive for the call.
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 4_096, alignment: 1)
        defer { storage.deallocate() }
        var offset = 0
        func stash(_ bytes: [UInt8]) -> UnsafeRawBufferPointer {
            let slice = UnsafeMutableRawBufferPointer(rebasing: storage[offset..<(offset + bytes.count)])
            slice.copyBytes(from: bytes)
            offset += bytes.count
            return UnsafeRawBufferPointer(slice)
        }
        var system = TelemetrySystemProperties()
        if messageID != nil { system.messageID = stash(mid) }
        if contentType != nil { system.contentType = stash(ct) }
        let list = zip(names, values).map { MessageProperty(name: stash($0.0), value: stash($0.1)) }
        let payloadBytes = stash(body)
        return try list.withUnsafeBufferPointer { try client.sendTelemetry(payloadBytes, system: system, properties: $0, qos: qos) }
    }
}

extension HubFixtureOf where T == TLSTransport {
    /// A client with this whole connection string, over TLS to `localhost:port`.
    convenience init(port: UInt16, trust: String, connectionString: String, options: HubOptions = HubOptions()) throws {
        let transport = try TLSTransport(TLSConfiguration(host: "localhost", port: port, trustAnchors: .file(trust)))
        try self.init(transport: transport, connectionString: connectionString, options: options)
    }

    /// - Parameters:
    ///   - key: the SAS key in the connection string; nil = `x509=true` (pass `identity`).
    ///   - identity: the TLS client certificate, if any.
    convenience init(port: UInt16, trust: String, deviceID: String = "dev1", moduleID: String? = nil, key: String? = HubFixture.key,
                     identity: ClientIdentity? = nil, options: HubOptions = HubOptions(), receive: Int = 4_096,
                     proxy: ProxyConfiguration? = nil) throws {
        let transport = try TLSTransport(TLSConfiguration(host: "localhost", port: port, trustAnchors: .file(trust),
                                                          clientIdentity: identity, proxy: proxy))
        try self.init(transport: transport, deviceID: deviceID, moduleID: moduleID, key: key, options: options, receive: receive)
    }

    /// A client of `gate` (directly, or through a proxy listening on `port`).
    convenience init(gate: IoTHubGate, port: UInt16? = nil, deviceID: String = "dev1", moduleID: String? = nil,
                     key: String? = HubFixture.key, identity: ClientIdentity? = nil, options: HubOptions = HubOptions(),
                     receive: Int = 4_096, proxy: ProxyConfiguration? = nil) throws {
        try self.init(port: port ?? gate.port, trust: gate.trust, deviceID: deviceID, moduleID: moduleID, key: key,
                      identity: identity, options: options, receive: receive, proxy: proxy)
    }
}
