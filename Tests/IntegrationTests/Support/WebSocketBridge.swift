import Foundation
import TinyPlatform
import TinyTLS
import TinyWebSocket

/// IoT Hub's MQTT-over-WebSockets endpoint (`Tests/Fixtures/websocket_bridge.py`) in front of an
/// MQTT server over TLS (the `IoTHubGate`, or the DPS stand-in): TLS with the PKI's `localhost`
/// certificate on a free port, the upgrade checked as IoT Hub checks it, device frames checked
/// (masked...), MQTT bytes relayed to the target over TLS, framing towards the device configurable
/// (`configure`), and a record of upgrades, frames, pongs, violations and closes.
final class WebSocketBridge: @unchecked Sendable {
    let port: UInt16
    let controlPort: UInt16
    let logPath: String
    /// The CA file devices trust.
    let trust: String
    private let directory: String
    private var process: ChildProcess?

    /// - Parameters:
    ///   - targetPort: the TLS port of the MQTT server on 127.0.0.1 (certificate for `localhost` from `pki`).
    ///   - config: the framing towards the device (`frame_size`, `coalesce_ms`, `fragmented`, `pings`,
    ///     `write_size`; see the script).
    init(targetPort: UInt16, pki: TestPKI, config: [String: Any] = [:], requireClientCertificate: Bool = false) throws {
        directory = try makeTemporaryDirectory(prefix: "tinyhub-ws")
        logPath = directory + "/ws.jsonl"
        trust = pki.caCertificatePath
        var arguments = ["--cert", pki.server.certificatePath, "--key", pki.server.keyPath, "--host", "localhost",
                         "--target-port", String(targetPort), "--target-ca", pki.caCertificatePath, "--log", logPath,
                         "--config", String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self),
                         "--exit-with-parent"]
        if requireClientCertificate { arguments += ["--client-ca", pki.caCertificatePath] }
        let (child, ports) = try FixtureScript.start("websocket_bridge.py", arguments, directory: directory, ports: 2)
        process = child
        port = ports[0]
        controlPort = ports[1]
    }

    /// The endpoint in front of the IoT Hub gate.
    convenience init(gate: IoTHubGate, config: [String: Any] = [:], requireClientCertificate: Bool = false) throws {
        try self.init(targetPort: gate.port, pki: gate.broker.pki, config: config, requireClientCertificate: requireClientCertificate)
    }

    deinit {
        process?.terminate(grace: 2)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Everything recorded so far, in order.
    var records: [GateRecord] { FixtureScript.records(logPath) }
    var upgrades: [GateRecord] { records.filter { $0.event == "upgrade" } }
    var upFrames: [GateRecord] { records.filter { $0.event == "frame" } }
    var violations: [GateRecord] { records.filter { $0.event == "violation" } }
    var closes: [GateRecord] { records.filter { $0.event == "close" } }
    var pongs: [GateRecord] { records.filter { $0.event == "pong" } }
    /// The status in the device's close frame, whether the device started the close handshake
    /// or answered the endpoint's close (`reply`); nil until one arrived.
    var deviceCloseStatus: Int? {
        for close in closes {
            if close.string("initiator") == "device", let status = close.int("status") { return status }
            if close.string("initiator") == "server", let reply = close.int("reply") { return reply }
        }
        return nil
    }

    /// Sends one command to the control port (see the script).
    @discardableResult
    func control(_ command: [String: Any]) throws -> [String: Any] { try FixtureScript.control(port: controlPort, command) }

    /// Changes the framing of connections opened from now on.
    func configure(_ config: [String: Any]) throws { try control(["config": config]) }

    /// A WebSocket transport over real TLS to this endpoint (not opened).
    func transport(clientCertificate: Bool = false, identity: ClientIdentity? = nil,
                   frameBuffer: Int = 2_048, receiveBuffer: Int = 2_048) throws -> WebSocketTransport<TLSTransport> {
        let tls = try TLSTransport(TLSConfiguration(host: "localhost", port: port, trustAnchors: .file(trust),
                                                    clientIdentity: identity))
        return try WebSocketTransport(over: tls, configuration: WebSocketConfiguration(
            host: "localhost", clientCertificate: clientCertificate, frameBufferBytes: frameBuffer, receiveBufferBytes: receiveBuffer))
    }
}
