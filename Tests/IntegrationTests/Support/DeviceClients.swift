import Foundation
import TinyHub
import TinyMQTT
import TinyPlatform
import TinyTLS

/// An MQTT session over real TLS to a local broker, with buffers freed at the end.
final class TLSSessionFixture {
    let transport: TLSTransport
    let buffers: MQTTBuffers
    let session: MQTTSession<TLSTransport, SystemPlatform>
    let clientID: Data
    var events: [String] = []
    var messages: [(topic: String, payload: String, qos: UInt8)] = []
    var delivered: [UInt16] = []
    var subscribed: [[UInt8]] = []

    init(port: UInt16, trust: String, host: String = "localhost", clientID: String = "device-\(UUID().uuidString.prefix(8))",
         receive: Int = 4_096, window: Int = 16, identity: ClientIdentity? = nil,
         configure: (inout MQTTSessionConfiguration) -> Void = { _ in }) throws {
        transport = try TLSTransport(TLSConfiguration(host: host, port: port, trustAnchors: .file(trust), clientIdentity: identity))
        buffers = MQTTBuffers.allocate(transmit: 4_096, receive: receive, inflightBytes: 64 * 1_024, inflightWindow: window)!
        var configuration = MQTTSessionConfiguration()
        configuration.backoff = Backoff(baseMs: 50, capMs: 400)
        configure(&configuration)
        session = MQTTSession(transport: transport, platform: SystemPlatform(), buffers: buffers, configuration: configuration)
        self.clientID = Data(clientID.utf8)
    }

    deinit {
        session.disconnect()
        buffers.deallocate()
    }

    /// Connects with a persistent session (clean session 0) unless asked otherwise.
    @discardableResult
    func connect(cleanSession: Bool = false, keepAlive: UInt16 = 60) throws -> Bool {
        try clientID.withUnsafeBytes { id in
            // The session keeps the pointer for reconnects: `clientID` lives as long as the fixture.
            try session.connect(MQTTConnectOptions(clientID: id, cleanSession: cleanSession, keepAliveSeconds: keepAlive))
        }
    }

    func subscribe(_ filter: String, qos: MQTTQoS = .atLeastOnce) throws {
        let bytes = Array(filter.utf8)
        try bytes.withUnsafeBytes { raw in
            try [MQTTSubscription(filter: raw, qos: qos)].withUnsafeBufferPointer { _ = try session.subscribe($0) }
        }
        try pollUntil("SUBACK for \(filter)") { !self.subscribed.isEmpty }
        subscribed.removeAll()
    }

    @discardableResult
    func publish(_ topic: String, _ payload: String, qos: MQTTQoS = .atLeastOnce) throws -> UInt16 {
        let t = Array(topic.utf8), p = Array(payload.utf8)
        return try t.withUnsafeBytes { tb in try p.withUnsafeBytes { pb in try session.publish(topic: tb, payload: pb, qos: qos) } }
    }

    func poll(_ timeoutMs: UInt32 = 100) throws {
        try session.poll(timeoutMs: timeoutMs) { event in
            switch event {
            case .message(let m):
                messages.append((String(decoding: m.topic, as: UTF8.self), String(decoding: m.payload, as: UTF8.self), m.qos.rawValue))
            case .delivered(let id): delivered.append(id)
            case .subscribed(_, let codes): subscribed.append(Array(codes))
            case .connected(let present): events.append("connected(\(present))")
            case .connectionLost(let error): events.append("lost(\(error))")
            case .reconnectScheduled: events.append("reconnectScheduled")
            case .oversizedPacketDropped(let type, let length): events.append("oversized(\(type),\(length))")
            case .ackTimedOut(let id): events.append("ackTimedOut(\(id))")
            case .unsubscribed: events.append("unsubscribed")
            }
        }
    }

    /// Polls until `condition` holds; fails after `seconds` (a bound on waiting, not a timing assertion).
    func pollUntil(_ what: String, seconds: Double = 20, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            guard Date() < deadline else { throw HarnessError("timed out waiting for \(what); events: \(events.suffix(10))") }
            try poll()
        }
    }
}
