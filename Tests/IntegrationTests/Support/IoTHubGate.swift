import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// IoT Hub's device side for one test: a real mosquitto (plain listener for the gate, TLS
/// listener for service-side tools) behind `Tests/Fixtures/iothub_mqtt_gate.py`, which checks
/// CONNECT (client id, user name, SAS or X.509), topics, QoS and property bags the way the hub
/// does, answers refusals itself and records every packet as JSON lines (`records`).
///
/// Devices connect to `localhost:port` over TLS (the PKI's `localhost` server certificate);
/// mosquitto_sub/pub talk to `broker.tlsPort` with `serviceTLS`.
final class IoTHubGate: @unchecked Sendable {
    /// The hub's `HostName` the gate expects in user names and SAS resources.
    static let hostName = "tinyhub-test.azure-devices.net"

    /// An identity registered at the gate.
    struct Identity {
        /// `deviceId` or `deviceId/moduleId`.
        var id: String
        /// Base64 device/module key, or nil for an X.509 identity (certificate CN = `id`).
        var key: String?
    }

    let broker: MosquittoBroker
    /// The device-facing TLS port.
    let port: UInt16
    /// The control port (JSON lines; see the script).
    let controlPort: UInt16
    /// The JSON-lines record.
    let logPath: String
    let directory: String
    private var process: ChildProcess?

    /// - Parameters:
    ///   - identities: registered devices/modules (default `dev1` and `dev1/filter` with `HubFixture.key`).
    ///   - apiVersions: api-versions accepted in the user name (default: the one TinyHub targets).
    ///   - clockOffsetSeconds: the gate's clock relative to the real one (for expiry tests).
    ///   - extraArguments: more gate options.
    init(identities: [Identity] = [Identity(id: "dev1", key: HubFixture.key), Identity(id: "dev1/filter", key: HubFixture.key)],
         apiVersions: [String] = ["2020-09-30"], clockOffsetSeconds: Int = 0, extraArguments: [String] = []) throws {
        broker = try MosquittoBroker(plainListener: true)
        directory = try makeTemporaryDirectory(prefix: "tinyhub-gate")
        logPath = directory + "/gate.jsonl"
        var arguments = ["--cert", broker.pki.server.certificatePath, "--key", broker.pki.server.keyPath,
                         "--client-ca", broker.pki.caCertificatePath, "--host", IoTHubGate.hostName,
                         "--broker-port", String(broker.plainPort!), "--log", logPath,
                         "--clock-offset-s", String(clockOffsetSeconds), "--exit-with-parent"]
        for identity in identities {
            if let key = identity.key { arguments += ["--device", "\(identity.id)=\(key)"] } else { arguments += ["--x509-device", identity.id] }
        }
        for version in apiVersions { arguments += ["--api-version", version] }
        arguments += extraArguments
        let (child, ports) = try FixtureScript.start("iothub_mqtt_gate.py", arguments, directory: directory, ports: 2)
        process = child
        port = ports[0]
        controlPort = ports[1]
    }

    deinit {
        process?.terminate(grace: 2)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// TLS options for mosquitto_sub/pub talking to the broker as the service side.
    var serviceTLS: MosquittoClientTLS { MosquittoClientTLS(caFile: broker.pki.caCertificatePath) }
    /// The CA file devices trust.
    var trust: String { broker.pki.caCertificatePath }

    // MARK: - Record

    /// Everything recorded so far, in order.
    var records: [GateRecord] { FixtureScript.records(logPath) }

    /// The CONNECT records.
    var connects: [GateRecord] { records.filter { $0.event == "connect" } }
    /// PUBLISH records from the device (`dir` up).
    var devicePublishes: [GateRecord] { records.filter { $0.event == "publish" && $0.string("dir") == "up" } }
    /// SUBSCRIBE records.
    var subscribes: [GateRecord] { records.filter { $0.event == "subscribe" } }
    /// Rule violations (each closed its connection).
    var violations: [GateRecord] { records.filter { $0.event == "violation" } }

    // MARK: - Control

    /// Sends one command to the control port and returns the answer.
    @discardableResult
    func control(_ command: [String: Any]) throws -> [String: Any] { try FixtureScript.control(port: controlPort, command) }

    /// Answers the next `count` CONNECTs with CONNACK `code` (3 = server unavailable).
    func refuseNextConnects(_ count: Int, code: Int = 3) throws { try control(["refuse": count, "code": code]) }
    /// Moves the gate's clock (SAS expiry is judged on it).
    func setClockOffset(seconds: Int) throws { try control(["clock_offset_s": seconds]) }
}

/// One JSON line of the gate's record.
struct GateRecord: CustomStringConvertible {
    let fields: [String: Any]
    init(_ fields: [String: Any]) { self.fields = fields }

    var event: String { string("event") ?? "" }
    var connection: Int { int("conn") ?? 0 }
    func string(_ key: String) -> String? { fields[key] as? String }
    func int(_ key: String) -> Int? { fields[key] as? Int }
    func bool(_ key: String) -> Bool? { fields[key] as? Bool }
    /// A field of the `sas` object of a CONNECT record (`sr`, `se`, `skn`).
    func sas(_ key: String) -> String? { (fields["sas"] as? [String: Any])?[key] as? String }
    /// The payload of a PUBLISH record.
    var payload: String { String(decoding: Self.bytes(hex: string("payload_hex") ?? ""), as: UTF8.self) }
    /// `[[filter, qos]]` of a SUBSCRIBE record.
    var filters: [(String, Int)] {
        ((fields["filters"] as? [[Any]]) ?? []).compactMap { pair in
            guard pair.count == 2, let filter = pair[0] as? String, let qos = pair[1] as? Int else { return nil }
            return (filter, qos)
        }
    }
    var description: String {
        (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "\(fields)"
    }

    static func bytes(hex: String) -> [UInt8] {
        var result = [UInt8]()
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
            if let byte = UInt8(hex[index..<next], radix: 16) { result.append(byte) }
            index = next
        }
        return result
    }
}
