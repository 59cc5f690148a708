import CTestSupport
import Foundation
import Testing
import TinyHub
import TinyMQTT
import TinyPlatform
import TinyProvisioning
import TinyTLS

/// `ProvisioningClient` over real TLS against the DPS stand-in (`Tests/Fixtures/dps_fixture.py`),
/// which checks every CONNECT (user name, `skn=registration` SAS with the individual or the
/// group-derived key, X.509 CN, expiry on its own clock) and every request, and records when a
/// request came before the `retry-after` it gave. Expected values come from DPS's documented
/// protocol and the fixture's record, never from TinyHub's own writers.
@Suite struct ProvisioningClientTests {
    static let userNameTail = "/api-version=2019-03-31&ClientVersion=tinyhub%2F0.2.0"

    @Test func individualSymmetricKey() throws {
        let dps = try DPSFixture(enrollments: [DPSFixture.individual("dev-individual", deviceID: "hub-dev-1")])
        let device = try DPSDevice(dps: dps)
        let assignment = try device.register("dev-individual", .symmetricKey(DPSFixture.individualKey))
        #expect(assignment == .init(hub: DPSFixture.assignedHub, deviceID: "hub-dev-1", key: DPSFixture.individualKey))
        #expect(device.client.connectionAttempts == 1)
        let connect = try #require(dps.connects.first)
        #expect(dps.connects.count == 1)
        #expect(connect.bool("accepted") == true, "\(connect)")
        #expect(connect.string("client_id") == "dev-individual")
        #expect(connect.string("username") == DPSFixture.idScope + "/registrations/dev-individual" + Self.userNameTail)
        #expect(connect.sas("sr") == DPSFixture.idScope + "%2Fregistrations%2Fdev-individual")
        #expect(connect.sas("skn") == "registration")
        #expect(connect.bool("clean_session") == true)
        #expect(dps.subscribes.first?.filters.map { $0.0 } == ["$dps/registrations/res/#"])
        // Register, then the status of the operation the 202 named.
        let requests = dps.requests
        #expect(requests.map { $0.string("kind") } == ["register", "status"])
        #expect(requests.first?.string("body") == "{\"registrationId\":\"dev-individual\"}")
        let operation = try #require(operationID(of: dps.answers.first))
        #expect(requests.last?.string("operation_id") == operation)
        #expect(requests.map { $0.bool("early") } == [false, false])
        #expect(dps.violations.isEmpty, "\(dps.violations)")
    }

    @Test func enrollmentGroupKeyDerivesTheDeviceKey() throws {
        let dps = try DPSFixture(enrollments: [DPSFixture.group("fleet", ["registrationIds": ["fleet-dev-7"]])])
        let device = try DPSDevice(dps: dps)
        let assignment = try device.register("fleet-dev-7", .groupKey(DPSFixture.groupKey))
        // The device key is base64(HMAC-SHA256(base64decode(groupKey), registrationId)), here from openssl.
        let derived = try hmacSHA256Base64(key: DPSFixture.groupKey, message: "fleet-dev-7")
        #expect(assignment == .init(hub: DPSFixture.assignedHub, deviceID: "fleet-dev-7", key: derived))
        #expect(dps.connects.map { $0.bool("accepted") } == [true])
        #expect(dps.connects.first?.string("enrollment") == "fleet")
        #expect(dps.requests.map { $0.string("kind") } == ["register", "status"])
    }

    @Test func x509ClientCertificate() throws {
        let pki = try TestPKI.shared()
        let registrationID = pki.clientCommonName
        let dps = try DPSFixture(enrollments: [DPSFixture.x509(registrationID, ["deviceId": "x509-hub-dev"])])
        let device = try DPSDevice(dps: dps, identity: .files(certificate: pki.client.certificatePath, key: pki.client.keyPath))
        let assignment = try device.register(registrationID, .x509)
        #expect(assignment == .init(hub: DPSFixture.assignedHub, deviceID: "x509-hub-dev", key: nil))
        let connect = try #require(dps.connects.first)
        #expect(connect.bool("accepted") == true, "\(connect)")
        #expect(connect.string("x509_subject_cn") == registrationID)
        #expect(connect.fields["password"] is NSNull, "no password with X.509")
    }

    @Test func assigningAnswersAreFollowedNoEarlierThanRetryAfter() throws {
        let dps = try DPSFixture(enrollments: [DPSFixture.individual("dev-slow", ["assigningPolls": 2, "retryAfter": 1])])
        let device = try DPSDevice(dps: dps)
        let assignment = try device.register("dev-slow", .symmetricKey(DPSFixture.individualKey))
        #expect(assignment.deviceID == "dev-slow")
        #expect(dps.answers.map { $0.int("status") } == [202, 202, 202, 200])
        #expect(dps.answers.dropLast().allSatisfy { $0.string("topic")?.hasSuffix("&retry-after=1") == true })
        let requests = dps.requests
        #expect(requests.map { $0.string("kind") } == ["register", "status", "status", "status"])
        let operation = try #require(operationID(of: dps.answers.first))
        #expect(requests.dropFirst().allSatisfy { $0.string("operation_id") == operation && $0.bool("operation_ok") == true })
        // The fixture marks any request that came before the retry-after it last gave.
        #expect(requests.map { $0.bool("early") } == [false, false, false, false], "\(requests)")
        #expect(try dps.stats()["early"] == 0)
    }

    @Test func anAnswerWithoutRetryAfterWaitsTheDefaultThreeSeconds() throws {
        let dps = try DPSFixture(enrollments: [DPSFixture.individual("dev-default", ["retryAfter": NSNull()])])
        let device = try DPSDevice(dps: dps)
        _ = try device.register("dev-default", .symmetricKey(DPSFixture.individualKey))
        let first = try #require(dps.answers.first)
        #expect(first.int("status") == 202)
        #expect(first.string("topic")?.contains("retry-after") == false, "\(first)")
        // The fixture holds the next request back for DPS's default 3 s and records it as early otherwise.
        #expect(dps.requests.map { $0.bool("early") } == [false, false], "\(dps.requests)")
        #expect(try dps.stats()["early"] == 0)
    }

    @Test func failedStatusIsATypedErrorWithDPSsMessage() throws {
        let dps = try DPSFixture(enrollments: [DPSFixture.individual("dev-failed", [
            "outcome": "failed", "errorCode": 400209, "errorMessage": "No linked hub matched the custom allocation.",
        ])])
        let error = try DPSDevice(dps: dps).registerFailure("dev-failed", .symmetricKey(DPSFixture.individualKey))
        guard case .assignmentFailed(let code, let message) = error else {
            Issue.record("expected assignmentFailed, got \(error)")
            return
        }
        #expect(code == 400209)
        #expect(message.text == "No linked hub matched the custom allocation.")
        #expect(error.isPermanent && !error.isAuthenticationFailure)
        #expect(dps.requests.map { $0.string("kind") } == ["register", "status"], "no request after the final answer")
    }

    @Test func disabledStatusIsATypedErrorWithDPSsMessage() throws {
        let dps = try DPSFixture(enrollments: [DPSFixture.individual("dev-off", ["outcome": "disabled"])])
        let error = try DPSDevice(dps: dps).registerFailure("dev-off", .symmetricKey(DPSFixture.individualKey))
        guard case .disabled(let code, let message) = error else {
            Issue.record("expected disabled, got \(error)")
            return
        }
        #expect(code == 401003)
        #expect(message.text == "The enrollment is disabled.")
        #expect(error.isPermanent)
    }

    @Test func aWrongKeyIsAnAuthenticationFailureAfterOneClockCheck() throws {
        let dps = try DPSFixture(enrollments: [DPSFixture.individual("dev-wrong")])
        let device = try DPSDevice(dps: dps)
        try device.enableClockCheck(dps)
        let wrongKey = Data("not the enrollment key, sorry".utf8).base64EncodedString()
        let error = try device.registerFailure("dev-wrong", .symmetricKey(wrongKey))
        guard case .notAuthorized(.notAuthorized) = error else {
            Issue.record("expected notAuthorized(5), got \(error)")
            return
        }
        #expect(error.isAuthenticationFailure && error.isPermanent)
        // CONNECT (refused), the clock read over HTTPS, CONNECT (refused): three connections, no more.
        #expect(dps.connects.map { $0.string("reason") } == ["signature-mismatch", "signature-mismatch"])
        #expect(dps.connects.map { $0.int("code") } == [5, 5])
        #expect(dps.httpRequests.count == 1)
        #expect(device.client.connectionAttempts == 2)
        let stats = try dps.stats()
        #expect(stats["connections"] == 3 && stats["mqtt"] == 2 && stats["http"] == 1, "\(stats)")
    }

    @Test func aWrongKeyWithoutClockCheckCostsOneConnection() throws {
        let dps = try DPSFixture(enrollments: [DPSFixture.individual("dev-wrong")])
        let device = try DPSDevice(dps: dps)
        let wrongKey = Data("not the enrollment key, sorry".utf8).base64EncodedString()
        let error = try device.registerFailure("dev-wrong", .symmetricKey(wrongKey))
        guard case .notAuthorized(.notAuthorized) = error else {
            Issue.record("expected notAuthorized(5), got \(error)")
            return
        }
        #expect(device.client.connectionAttempts == 1)
        #expect(try dps.stats()["connections"] == 1)
    }

    @Test func anUnknownScopeIsAnAuthenticationFailure() throws {
        let dps = try DPSFixture(enrollments: [DPSFixture.individual("dev-1")])
        let device = try DPSDevice(dps: dps)
        try device.enableClockCheck(dps)
        let error = try device.registerFailure("dev-1", .symmetricKey(DPSFixture.individualKey), idScope: "0ne0000BAD0")
        guard case .notAuthorized(.notAuthorized) = error else {
            Issue.record("expected notAuthorized(5), got \(error)")
            return
        }
        #expect(error.isAuthenticationFailure)
        #expect(dps.connects.map { $0.string("reason") } == ["unknown-scope", "unknown-scope"])
        #expect(dps.httpRequests.count == 1)
        #expect(device.client.connectionAttempts == 2)
        #expect(try dps.stats()["connections"] == 3, "two MQTT connections and one HTTPS request")
    }

    @Test func throttlingIsWaitedOutThenTheRegistrationSucceeds() throws {
        let dps = try DPSFixture(enrollments: [DPSFixture.individual("dev-busy", ["throttle": 2, "throttleRetryAfter": 1])])
        let device = try DPSDevice(dps: dps)
        let assignment = try device.register("dev-busy", .symmetricKey(DPSFixture.individualKey))
        #expect(assignment.hub == DPSFixture.assignedHub)
        #expect(dps.answers.map { $0.int("status") } == [429, 429, 202, 200])
        #expect(dps.answers.first?.string("topic")?.hasSuffix("&retry-after=1") == true)
        // The throttled register request is sent again (same body), each time no earlier than retry-after.
        let requests = dps.requests
        #expect(requests.map { $0.string("kind") } == ["register", "register", "register", "status"])
        #expect(Set(requests.prefix(3).map { $0.string("rid") }).count == 3, "each request has its own $rid")
        #expect(requests.map { $0.bool("early") } == [false, false, false, false], "\(requests)")
        #expect(try dps.stats()["early"] == 0)
        #expect(device.client.connectionAttempts == 1)
    }

    @Test func anExpiredTokenIsRenewedFromDPSsClockOnce() throws {
        let dpsAhead = 7_200 // the device's token (one hour) expired an hour ago on DPS's clock
        let dps = try DPSFixture(enrollments: [DPSFixture.individual("dev-clock")], clockOffsetSeconds: dpsAhead)
        let device = try DPSDevice(dps: dps)
        try device.enableClockCheck(dps)
        let assignment = try device.register("dev-clock", .symmetricKey(DPSFixture.individualKey))
        #expect(assignment.deviceID == "dev-clock")
        #expect(dps.connects.map { $0.bool("accepted") } == [false, true])
        #expect(dps.connects.first?.string("reason") == "expired")
        #expect(dps.httpRequests.count == 1)
        #expect(dps.httpRequests.first?.string("path") == "/\(DPSFixture.idScope)/registrations/dev-clock?api-version=2019-03-31")
        #expect(abs(Int(device.client.clockOffsetSeconds) - dpsAhead) <= 5, "offset \(device.client.clockOffsetSeconds)")
        let se = try #require(dps.connects.last?.sas("se").flatMap { Int($0) })
        #expect(se > Int(Date().timeIntervalSince1970) + dpsAhead, "the new token counts from DPS's time")
    }

    @Test func aClockBeforeTheBuildIsCheckedBeforeTheFirstConnection() throws {
        let dps = try DPSFixture(enrollments: [DPSFixture.individual("dev-rtc")])
        let device = try DPSDevice(dps: dps)
        device.platform.wallOffset = -Int64(Date().timeIntervalSince1970) + 1_000 // an RTC-less board at 1970
        try device.enableClockCheck(dps)
        _ = try device.register("dev-rtc", .symmetricKey(DPSFixture.individualKey))
        // No refusal first: the clock was read before the token was minted.
        #expect(dps.connects.map { $0.bool("accepted") } == [true])
        #expect(dps.httpRequests.count == 1)
        #expect(device.client.connectionAttempts == 1)
    }

    /// The application keeps the assignment (hub and device id) and boots from it without DPS;
    /// only when the hub refuses that identity does it register once more, on the same client.
    /// The hub is the IoT Hub gate, which knows the group device under its derived key: so this also
    /// shows the key DPS authenticated with is the one the assigned hub accepts.
    @Test func aCachedAssignmentSkipsDPSUntilTheHubRefusesIt() throws {
        let registrationID = "fleet-dev-9"
        let derived = try hmacSHA256Base64(key: DPSFixture.groupKey, message: registrationID)
        let dps = try DPSFixture(enrollments: [DPSFixture.group("fleet")])
        let gate = try IoTHubGate(identities: [IoTHubGate.Identity(id: registrationID, key: derived)])
        let device = try DPSDevice(dps: dps)
        var options = HubOptions()
        options.features = []
        func connectToHub(_ cached: DPSDevice.Assignment) throws {
            // The assigned hub's name is the gate's; the gate itself listens on localhost.
            let text = "HostName=\(cached.hub);DeviceId=\(cached.deviceID);SharedAccessKey=\(cached.key ?? "")"
            let hub = try HubFixture(port: gate.port, trust: gate.trust, connectionString: text, options: options)
            try withExtendedLifetime(hub) { try hub.client.connect() } // the fixture owns the client's buffers
        }
        // First boot: no cache, so DPS; the assignment is kept.
        let first = try device.register(registrationID, .groupKey(DPSFixture.groupKey))
        #expect(first == .init(hub: DPSFixture.assignedHub, deviceID: registrationID, key: derived))
        var cache = first
        try connectToHub(cache)
        // Second boot: the cache names the hub; DPS is not contacted.
        try connectToHub(cache)
        #expect(try dps.stats()["connections"] == 1)
        #expect(gate.connects.map { $0.bool("accepted") } == [true, true])
        // The hub refuses the cached identity (the device was moved or deleted): one new
        // registration replaces the cache, and the hub accepts what DPS assigned.
        try gate.refuseNextConnects(1, code: 5)
        do {
            try connectToHub(cache)
            Issue.record("the hub accepted the refused identity")
        } catch let error as HubError {
            #expect(error.isAuthenticationFailure, "\(error)")
        }
        cache = try device.register(registrationID, .groupKey(DPSFixture.groupKey))
        #expect(cache == first)
        try connectToHub(cache)
        let stats = try dps.stats()
        #expect(stats["connections"] == 2 && stats["registers"] == 2, "\(stats)")
        #expect(device.client.connectionAttempts == 1)
        #expect(dps.requests.filter { $0.string("kind") == "register" }.count == 2)
        #expect(gate.connects.map { $0.bool("accepted") } == [true, true, false, true])
    }

    /// `register` allocates nothing of its own: all its memory was taken at init. Over TLS the
    /// only allocations are mbedTLS's (its handshake allocates, and not always the same number
    /// of times), so the transport is fenced: allocations inside its calls are counted apart.
    /// Counted per thread by the test bundle's malloc interposer (Tests/CTestSupport).
    @Test func registerAllocatesNothingOutsideTLS() throws {
        let dps = try DPSFixture(enrollments: [DPSFixture.individual("dev-heap", ["retryAfter": 0, "assigningPolls": 1])])
        let transport = FencedTransport(try dps.transport())
        var options = ProvisioningOptions()
        options.session.backoff = Backoff(baseMs: 50, capMs: 200)
        let client = try #require(ProvisioningClient(transport: transport, platform: SystemPlatform(), crypto: MbedTLSCrypto(), options: options))
        let scope = Array(DPSFixture.idScope.utf8), id = Array("dev-heap".utf8), key = Array(DPSFixture.individualKey.utf8)
        func register() throws -> (outside: UInt64, inside: UInt64) {
            try scope.withUnsafeBytes { scope in
                try id.withUnsafeBytes { id in
                    try key.withUnsafeBytes { key in
                        let before = cts_thread_allocations(), beforeInside = transport.allocations
                        _ = try client.register(idScope: scope, registrationID: id, credential: .symmetricKey(key))
                        let inside = transport.allocations - beforeInside
                        return (cts_thread_allocations() - before - inside, inside)
                    }
                }
            }
        }
        _ = try register() // warm-up: lazily created runtime metadata
        let counts = try register()
        #expect(counts.inside > 0, "the counter sees mbedTLS's allocations (else the zero proves nothing)")
        #expect(counts.outside == 0, "allocations by register outside the transport")
        #expect(dps.requests.map { $0.string("kind") } == ["register", "status", "status", "register", "status", "status"])
    }

    /// The `operationId` of an answer's body.
    private func operationID(of answer: GateRecord?) -> String? {
        guard let body = answer?.string("body"),
              let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] else { return nil }
        return object["operationId"] as? String
    }
}

/// Forwards to a TLS transport and counts the heap allocations made inside its calls.
final class FencedTransport: Transport {
    let inner: TLSTransport
    private(set) var allocations: UInt64 = 0
    init(_ inner: TLSTransport) { self.inner = inner }

    private func fenced<R>(_ body: () throws(TransportError) -> R) throws(TransportError) -> R {
        let before = cts_thread_allocations()
        defer { allocations += cts_thread_allocations() - before }
        return try body()
    }

    func open(timeoutMs: Int32) throws(TransportError) { try fenced { () throws(TransportError) in try inner.open(timeoutMs: timeoutMs) } }
    func send(_ bytes: UnsafeRawBufferPointer, timeoutMs: Int32) throws(TransportError) {
        try fenced { () throws(TransportError) in try inner.send(bytes, timeoutMs: timeoutMs) }
    }
    func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMs: Int32) throws(TransportError) -> Int {
        try fenced { () throws(TransportError) in try inner.receive(into: buffer, timeoutMs: timeoutMs) }
    }
    func close() {
        let before = cts_thread_allocations()
        inner.close()
        allocations += cts_thread_allocations() - before
    }
    var isOpen: Bool { inner.isOpen }
}
