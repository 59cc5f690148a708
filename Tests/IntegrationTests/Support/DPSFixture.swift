import Foundation
import TinyMQTT
import TinyPlatform
import TinyProvisioning
import TinyTLS
#if canImport(Glibc)
import Glibc
#endif

/// The Device Provisioning Service stand-in (`Tests/Fixtures/dps_fixture.py`) for one test:
/// DPS over MQTT/TLS and HTTPS (the clock check) on one free loopback port, with the shared
/// test PKI (`localhost` server certificate; device certificates signed by its CA are trusted
/// for X.509 enrollments), the enrollments given, and its JSON-lines record.
final class DPSFixture: @unchecked Sendable {
    static let idScope = "0ne00000TST"
    /// The hub every enrollment assigns to (the IoT Hub gate's name).
    static let assignedHub = IoTHubGate.hostName
    static let individualKey = Data("tinyhub-dps-individual-key-0123456789".utf8).base64EncodedString()
    static let groupKey = Data("tinyhub-dps-enrollment-group-key-42".utf8).base64EncodedString()

    let pki: TestPKI
    let port: UInt16
    let controlPort: UInt16
    let logPath: String
    private let directory: String
    private var process: ChildProcess?

    /// - Parameters:
    ///   - enrollments: the config's `enrollments` (see the fixture's docstring).
    ///   - clockOffsetSeconds: the fixture's clock relative to the real one.
    init(enrollments: [[String: Any]], clockOffsetSeconds: Int = 0) throws {
        pki = try TestPKI.shared()
        directory = try makeTemporaryDirectory(prefix: "tinyhub-dps")
        logPath = directory + "/dps.jsonl"
        let configPath = directory + "/config.json"
        try JSONSerialization.data(withJSONObject: ["idScope": Self.idScope, "enrollments": enrollments])
            .write(to: URL(fileURLWithPath: configPath))
        let (child, ports) = try FixtureScript.start(
            "dps_fixture.py",
            ["--cert", pki.server.certificatePath, "--key", pki.server.keyPath, "--client-ca", pki.caCertificatePath,
             "--config", configPath, "--log", logPath, "--clock-offset-s", String(clockOffsetSeconds), "--exit-with-parent"],
            directory: directory, ports: 2)
        process = child
        port = ports[0]
        controlPort = ports[1]
    }

    deinit {
        process?.terminate(grace: 2)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A TLS transport to the stand-in (MQTT or HTTPS: it tells them apart by the first byte).
    func transport(identity: ClientIdentity? = nil) throws -> TLSTransport {
        try TLSTransport(TLSConfiguration(host: "localhost", port: port, trustAnchors: .file(pki.caCertificatePath),
                                          clientIdentity: identity))
    }

    // MARK: - Record

    var records: [GateRecord] { FixtureScript.records(logPath) }
    var connects: [GateRecord] { records.filter { $0.event == "connect" } }
    var subscribes: [GateRecord] { records.filter { $0.event == "subscribe" } }
    /// Register and status requests, in order.
    var requests: [GateRecord] { records.filter { $0.event == "request" } }
    var answers: [GateRecord] { records.filter { $0.event == "answer" } }
    /// HTTPS requests (clock checks).
    var httpRequests: [GateRecord] { records.filter { $0.event == "http" } }
    var violations: [GateRecord] { records.filter { $0.event == "violation" } }

    /// The fixture's counters (connections, mqtt, http, accepted, refused, registers,
    /// status_requests, early, wrong_operation).
    func stats() throws -> [String: Int] {
        try FixtureScript.control(port: controlPort, ["stats": true]).compactMapValues { $0 as? Int }
    }

    // MARK: - Enrollments

    /// An individual symmetric-key enrollment.
    static func individual(_ registrationID: String, key: String = individualKey, deviceID: String? = nil,
                           _ settings: [String: Any] = [:]) -> [String: Any] {
        var enrollment: [String: Any] = ["registrationId": registrationID, "attestation": "symmetricKey", "primaryKey": key,
                                         "assignedHub": assignedHub]
        if let deviceID { enrollment["deviceId"] = deviceID }
        return enrollment.merging(settings) { $1 }
    }

    /// A symmetric-key enrollment group.
    static func group(_ groupID: String, key: String = groupKey, _ settings: [String: Any] = [:]) -> [String: Any] {
        ["groupId": groupID, "attestation": "symmetricKey", "primaryKey": key, "assignedHub": assignedHub]
            .merging(settings) { $1 }
    }

    /// An individual X.509 enrollment (the registration id is the certificate's CN).
    static func x509(_ registrationID: String, _ settings: [String: Any] = [:]) -> [String: Any] {
        ["registrationId": registrationID, "attestation": "x509", "assignedHub": assignedHub].merging(settings) { $1 }
    }
}

/// A device provisioning itself against a `DPSFixture`: a `ProvisioningClient` over real TLS.
final class DPSDevice {
    enum Credential {
        case symmetricKey(String)
        case groupKey(String)
        case x509
    }

    /// What DPS assigned, copied out of the client's storage.
    struct Assignment: Equatable {
        var hub: String
        var deviceID: String
        var key: String?
    }

    let platform = ShiftedPlatform()
    let client: ProvisioningClient<TLSTransport, ShiftedPlatform>

    /// - Parameters:
    ///   - identity: the TLS client certificate (X.509 enrollments).
    ///   - configure: changes to the options (the backoff is short: tests do not wait for it).
    init(dps: DPSFixture, identity: ClientIdentity? = nil, configure: (inout ProvisioningOptions) -> Void = { _ in }) throws {
        var options = ProvisioningOptions()
        options.session.backoff = Backoff(baseMs: 50, capMs: 200)
        options.registrationTimeoutMs = 60_000
        configure(&options)
        guard let client = ProvisioningClient(transport: try dps.transport(identity: identity), platform: platform, crypto: MbedTLSCrypto(),
                                              options: options) else { throw HarnessError("out of memory") }
        self.client = client
    }

    /// Lets the client read DPS's clock over HTTPS (the stand-in's own port) after a refusal.
    func enableClockCheck(_ dps: DPSFixture) throws {
        guard let check = ProvisioningClockCheck(transport: try dps.transport(), host: "localhost") else {
            throw HarnessError("out of memory")
        }
        client.enableClockCheck { scope, id in check.dpsTime(idScope: scope, registrationID: id) }
    }

    /// `register` with strings (its `String` entry point), the assignment copied out.
    func register(_ registrationID: String, _ credential: Credential, idScope: String = DPSFixture.idScope,
                  payload: String? = nil) throws(ProvisioningError) -> Assignment {
        let argument: ProvisioningTextCredential
        switch credential {
        case .symmetricKey(let key): argument = .symmetricKey(key)
        case .groupKey(let key): argument = .groupKey(key)
        case .x509: argument = .x509
        }
        let assignment = try client.register(idScope: idScope, registrationID: registrationID, credential: argument, payload: payload)
        return Assignment(hub: assignment.assignedHubText, deviceID: assignment.deviceIDText,
                          key: assignment.deviceKey.map { String(decoding: $0, as: UTF8.self) })
    }

    /// `register` expected to fail: its error.
    func registerFailure(_ registrationID: String, _ credential: Credential,
                         idScope: String = DPSFixture.idScope) throws -> ProvisioningError {
        do {
            let assignment = try register(registrationID, credential, idScope: idScope)
            throw HarnessError("expected a failure, DPS assigned \(assignment)")
        } catch let error as ProvisioningError {
            return error
        }
    }
}
