import Testing
import TinyProvisioning
import TinyHub
import TinyTLS

@Suite struct ProvisioningCredentialsTests {
    // Vectors computed with Python, independently of this code:
    // python3 -c 'import hmac,hashlib,base64,urllib.parse as u
    // key=base64.b64encode(bytes(range(32))); sr=u.quote("0ne00000A0A/registrations/my-device-1",safe="")
    // sig=base64.b64encode(hmac.new(base64.b64decode(key),(sr+"\n1700000000").encode(),hashlib.sha256).digest()).decode()
    // print(sr, u.quote(sig,safe=""))
    // gk=base64.b64encode(b"group-key-0123456789abcdefghijklmnop")
    // print(gk, base64.b64encode(hmac.new(base64.b64decode(gk),b"dev-42",hashlib.sha256).digest()))'
    static let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    static let groupKey = "Z3JvdXAta2V5LTAxMjM0NTY3ODlhYmNkZWZnaGlqa2xtbm9w"

    @Test func sasTokenForIndividualEnrollment() throws {
        let token = try withBytes("0ne00000A0A", "my-device-1", Self.key) { scope, rid, key in
            try written { out throws(ProvisioningProtocolError) in
                try ProvisioningCredentials.writeSASToken(idScope: scope, registrationID: rid, key: key,
                                                          expiry: 1_700_000_000, crypto: MbedTLSCrypto(), into: out)
            }
        }
        #expect(token == "SharedAccessSignature sr=0ne00000A0A%2Fregistrations%2Fmy-device-1"
            + "&sig=NWd2XmpafAS9r4iYibEPmSKI9Ry5Hob3n0%2BlBzvbUjA%3D&se=1700000000&skn=registration")
    }

    @Test func groupKeyDerivation() throws {
        let derived = try withBytes(Self.groupKey, "dev-42") { gk, rid in
            try written { out throws(ProvisioningProtocolError) in
                try ProvisioningCredentials.deriveDeviceKey(groupKey: gk, registrationID: rid, crypto: MbedTLSCrypto(), into: out)
            }
        }
        #expect(derived == "HboM0NJuI1pmwGmfpMaeC23NzShaJfrrC+PwFzu9dWA=")
        #expect(derived.utf8.count == ProvisioningCredentials.derivedKeyLength)
    }

    @Test func badKeysAndIdentitiesAreTypedErrors() {
        func token(_ scope: String, _ rid: String, _ key: String, capacity: Int = 512) throws -> String {
            try withBytes(scope, rid, key) { s, r, k in
                try written(capacity: capacity) { out throws(ProvisioningProtocolError) in
                    try ProvisioningCredentials.writeSASToken(idScope: s, registrationID: r, key: k, expiry: 1, crypto: MbedTLSCrypto(), into: out)
                }
            }
        }
        #expect(throws: ProvisioningProtocolError.invalidKey) { try token("scope", "dev", "not base64!") }
        #expect(throws: ProvisioningProtocolError.invalidKey) { try token("scope", "dev", "") }
        #expect(throws: ProvisioningProtocolError.keyTooLong) { try token("scope", "dev", String(repeating: "QUFB", count: 60)) }
        #expect(throws: ProvisioningProtocolError.invalidIdentity) { try token("", "dev", Self.key) }
        #expect(throws: ProvisioningProtocolError.invalidIdentity) { try token("scope", "a/b", Self.key) }
        #expect(throws: ProvisioningProtocolError.invalidIdentity) { try token("scope", String(repeating: "x", count: 129), Self.key) }
        // Every capacity below the full length is refused with a size that fits.
        let full = try! token("0ne00000A0A", "my-device-1", Self.key)
        for capacity in 0..<full.utf8.count {
            do {
                _ = try token("0ne00000A0A", "my-device-1", Self.key, capacity: capacity)
                Issue.record("capacity \(capacity) accepted")
            } catch let error as ProvisioningProtocolError {
                guard case .bufferTooSmall(let needed) = error else { Issue.record("\(error)"); continue }
                #expect(needed > capacity)
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}

/// DPS's assignment becomes the hub configuration the clients take, without a connection
/// string in between for the application to build and parse.
@Suite struct ProvisioningAssignmentConfigurationTests {
    @Test func anAssignmentMakesTheHubConfiguration() throws {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 8)
        defer { storage.deallocate() }
        let hub = Array("assigned.azure-devices.net".utf8), device = Array("dev-42".utf8)
        let key = Array(ProvisioningCredentialsTests.key.utf8)
        let configuration = try hub.withUnsafeBytes { hub in
            try device.withUnsafeBytes { device in
                try key.withUnsafeBytes { key in
                    try ProvisioningAssignment(assignedHub: hub, deviceID: device, deviceKey: key).hubConfiguration(storage: storage)
                }
            }
        }
        #expect(String(decoding: configuration.connectHost, as: UTF8.self) == "assigned.azure-devices.net")
        #expect(String(decoding: configuration.deviceID, as: UTF8.self) == "dev-42")
        #expect(!configuration.usesX509)
        let x509 = try hub.withUnsafeBytes { hub in
            try device.withUnsafeBytes { device in
                try ProvisioningAssignment(assignedHub: hub, deviceID: device, deviceKey: nil).hubConfiguration(storage: storage)
            }
        }
        #expect(x509.usesX509)
        let small = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 8)
        defer { small.deallocate() }
        #expect(throws: HubError.self) {
            try hub.withUnsafeBytes { hub in
                try device.withUnsafeBytes { device in
                    _ = try ProvisioningAssignment(assignedHub: hub, deviceID: device, deviceKey: nil).hubConfiguration(storage: small)
                }
            }
        }
    }
}

/// The `String` entry points: the same results as the byte-view forms, from strings.
@Suite struct ProvisioningTextEntryPointTests {
    @Test func groupKeyDerivationFromStrings() throws {
        // The vector of `ProvisioningCredentialsTests.groupKeyDerivation` (Python's HMAC).
        let derived = try ProvisioningCredentials.deriveDeviceKey(groupKey: ProvisioningCredentialsTests.groupKey,
                                                                  registrationID: "dev-42", crypto: MbedTLSCrypto())
        #expect(derived == "HboM0NJuI1pmwGmfpMaeC23NzShaJfrrC+PwFzu9dWA=")
    }

    @Test func badGroupKeysAndIdsFromStringsAreTypedErrors() {
        #expect(throws: ProvisioningProtocolError.invalidKey) {
            try ProvisioningCredentials.deriveDeviceKey(groupKey: "not base64!", registrationID: "dev", crypto: MbedTLSCrypto())
        }
        #expect(throws: ProvisioningProtocolError.invalidIdentity) {
            try ProvisioningCredentials.deriveDeviceKey(groupKey: ProvisioningCredentialsTests.groupKey, registrationID: "a/b",
                                                        crypto: MbedTLSCrypto())
        }
    }

    @Test func validateTakesStrings() throws {
        try ProvisioningIdentity.validate("0ne00000A0A")
        try ProvisioningIdentity.validate(String(repeating: "a", count: ProvisioningIdentity.maxIDLength))
        for bad in ["", "a b", "a/b", "é", String(repeating: "a", count: ProvisioningIdentity.maxIDLength + 1)] {
            #expect(throws: ProvisioningProtocolError.invalidIdentity, "\(bad)") { try ProvisioningIdentity.validate(bad) }
        }
    }
}
