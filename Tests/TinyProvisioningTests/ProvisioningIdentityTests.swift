import Testing
import TinyProvisioning

@Suite struct ProvisioningIdentityTests {
    @Test func userNameEncodesTheClientVersion() throws {
        // python3 -c 'import urllib.parse as u; print(u.quote("TinyHub/0.1 (test)", safe=""))'
        let name = try withBytes("0ne00000A0A", "my-device-1", "TinyHub/0.1 (test)") { scope, rid, version in
            try written { out throws(ProvisioningProtocolError) in
                try ProvisioningIdentity.writeUserName(idScope: scope, registrationID: rid, clientVersion: version, into: out)
            }
        }
        #expect(name == "0ne00000A0A/registrations/my-device-1/api-version=2019-03-31&ClientVersion=TinyHub%2F0.1%20%28test%29")
    }

    @Test func resourceIsPercentEncoded() throws {
        let sr = try withBytes("0ne00000A0A", "dev.1") { scope, rid in
            try written { out throws(ProvisioningProtocolError) in
                try ProvisioningIdentity.writeResource(idScope: scope, registrationID: rid, into: out)
            }
        }
        #expect(sr == "0ne00000A0A%2Fregistrations%2Fdev.1")
    }

    @Test func shortBufferSaysWhatFits() {
        let expected = "scope/registrations/dev/api-version=2019-03-31&ClientVersion=v"
        withBytes("scope", "dev", "v") { scope, rid, version in
            #expect(throws: ProvisioningProtocolError.bufferTooSmall(needed: expected.utf8.count)) {
                _ = try written(capacity: 10) { out throws(ProvisioningProtocolError) in
                    try ProvisioningIdentity.writeUserName(idScope: scope, registrationID: rid, clientVersion: version, into: out)
                }
            }
        }
    }
}
