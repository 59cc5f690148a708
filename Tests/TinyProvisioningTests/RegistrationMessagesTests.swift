import Testing
import TinyHub
import TinyProvisioning

@Suite struct RegistrationMessagesTests {
    func parse(_ body: String) throws(ProvisioningProtocolError) -> RegistrationResponse {
        var result: Result<RegistrationResponse, ProvisioningProtocolError> = .failure(.unknownStatus)
        withBytes(body) { bytes in
            do throws(ProvisioningProtocolError) { result = .success(try RegistrationResponse.parse(bytes)) }
            catch { result = .failure(error) }
        }
        return try result.get()
    }

    func text(_ token: JSONToken?, in body: String) throws -> String? {
        guard let token else { return nil }
        return try withBytes(body) { bytes in
            try written { out throws(ProvisioningProtocolError) in try RegistrationResponse.copy(token, from: bytes, into: out) }
        }
    }

    @Test func assigningAndAssigned() throws {
        let assigning = #"{"operationId":"4.d0a6.42d7-4c78","status":"assigning"}"#
        let a = try parse(assigning)
        #expect(a.status == .assigning)
        #expect(try text(a.operationID, in: assigning) == "4.d0a6.42d7-4c78")
        #expect(a.assignedHub == nil && a.deviceID == nil)

        let assigned = #"{"operationId":"op1","status":"assigned","registrationState":{"registrationId":"dev-42","#
            + #""createdDateTimeUtc":"2026-12-02T03:00:00Z","assignedHub":"contoso.azure-devices.net","deviceId":"dev\u002D42","#
            + #""status":"assigned","substatus":"initialAssignment","etag":"IjA=","payload":{"a":[1,2,{"b":null}]}}}"#
        let b = try parse(assigned)
        #expect(b.status == .assigned)
        #expect(try text(b.assignedHub, in: assigned) == "contoso.azure-devices.net")
        #expect(try text(b.deviceID, in: assigned) == "dev-42")
    }

    @Test func failuresCarryTheirMessage() throws {
        let failed = #"{"operationId":"op","status":"failed","registrationState":{"registrationId":"d","status":"failed","#
            + #""errorCode":400207,"errorMessage":"Custom allocation failed"}}"#
        let f = try parse(failed)
        #expect(f.status == .failed)
        #expect(f.errorCode == 400207)
        #expect(try text(f.errorMessage, in: failed) == "Custom allocation failed")
        #expect(try parse(#"{"operationId":"op","status":"disabled"}"#).status == .disabled)
        let error = #"{"errorCode":401002,"trackingId":"t","message":"Unauthorized","timestampUtc":"x"}"#
        let e = try parse(error)
        #expect(e.status == nil && e.errorCode == 401002)
        #expect(try text(e.errorMessage, in: error) == "Unauthorized")
    }

    @Test func malformedBodiesAreTypedErrors() {
        #expect(throws: ProvisioningProtocolError.unknownStatus) { _ = try parse(#"{"status":"exploded"}"#) }
        #expect(throws: ProvisioningProtocolError.malformedBody(.typeMismatch)) { _ = try parse(#"{"status":3}"#) }
        #expect(throws: ProvisioningProtocolError.malformedBody(.typeMismatch)) { _ = try parse(#"[1]"#) }
        #expect(throws: ProvisioningProtocolError.malformedBody(.typeMismatch)) { _ = try parse(#"{"registrationState":"x"}"#) }
        #expect(throws: ProvisioningProtocolError.malformedBody(.typeMismatch)) {
            _ = try parse(#"{"registrationState":{"assignedHub":1}}"#)
        }
        #expect(throws: ProvisioningProtocolError.malformedBody(.unexpectedEnd)) { _ = try parse("") }
        let valid = #"{"operationId":"op","status":"assigned","registrationState":{"assignedHub":"h","deviceId":"d"}}"#
        let bytes = Array(valid.utf8)
        for end in 0..<bytes.count { // every strict prefix is refused, none traps
            let prefix = String(decoding: bytes[0..<end], as: UTF8.self)
            #expect(throws: ProvisioningProtocolError.self) { _ = try parse(prefix) }
        }
        for i in 0..<bytes.count {
            for value: UInt8 in [0x00, 0x22, 0x5C, 0x7B, 0x7D, 0xFF] {
                var mutated = bytes
                mutated[i] = value
                mutated.withUnsafeBytes { b in _ = try? RegistrationResponse.parse(b) }
            }
        }
    }

    @Test func registerBody() throws {
        let plain = try withBytes("dev-42") { rid in
            try written { out throws(ProvisioningProtocolError) in try RegistrationRequest.writeBody(registrationID: rid, into: out) }
        }
        #expect(plain == #"{"registrationId":"dev-42"}"#)
        let custom = try withBytes("dev-42", #"{"model":"x"}"#) { rid, payload in
            try written { out throws(ProvisioningProtocolError) in
                try RegistrationRequest.writeBody(registrationID: rid, payload: payload, into: out)
            }
        }
        #expect(custom == #"{"registrationId":"dev-42","payload":{"model":"x"}}"#)
        withBytes("dev-42", #"{"model":"#) { rid, payload in
            #expect(throws: ProvisioningProtocolError.malformedBody(.unexpectedEnd)) {
                _ = try written { out throws(ProvisioningProtocolError) in
                    try RegistrationRequest.writeBody(registrationID: rid, payload: payload, into: out)
                }
            }
        }
    }
}
