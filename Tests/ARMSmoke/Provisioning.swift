// ARM smoke checks of the pure provisioning (DPS) code: the MQTT user name, the registration SAS
// token and the group-derived device key against the vectors of Tests/TinyProvisioningTests
// (computed with Python's hmac/base64/urllib.parse), the request topics and body, and DPS's
// answers (topic and body) read as ProvisioningClient reads them.
import TinyProvisioning
import TinyTLS

func provisioningSmoke(_ check: (Bool, StaticString) -> Void) {
    let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 512, alignment: 8)
    defer { out.deallocate() }
    func text(_ count: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: out[0..<count]) }

    do throws(ProvisioningProtocolError) {
        let n = try ProvisioningIdentity.writeUserName(idScope: bytes("0ne00000A0A"), registrationID: bytes("my-device-1"),
                                                       clientVersion: bytes("TinyHub/0.1 (test)"), into: out)
        check(same(text(n), "0ne00000A0A/registrations/my-device-1/api-version=2019-03-31&ClientVersion=TinyHub%2F0.1%20%28test%29"),
              "DPS user name (client version percent-encoded)")
        let t = try ProvisioningCredentials.writeSASToken(idScope: bytes("0ne00000A0A"), registrationID: bytes("my-device-1"),
                                                          key: bytes("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
                                                          expiry: 1_700_000_000, crypto: MbedTLSCrypto(), into: out)
        let token: StaticString = "SharedAccessSignature sr=0ne00000A0A%2Fregistrations%2Fmy-device-1&sig=NWd2XmpafAS9r4iYibEPmSKI9Ry5Hob3n0%2BlBzvbUjA%3D&se=1700000000&skn=registration"
        check(same(text(t), token),
              "DPS registration SAS token matches the Python vector")
        let k = try ProvisioningCredentials.deriveDeviceKey(groupKey: bytes("Z3JvdXAta2V5LTAxMjM0NTY3ODlhYmNkZWZnaGlqa2xtbm9w"),
                                                            registrationID: bytes("dev-42"), crypto: MbedTLSCrypto(), into: out)
        check(same(text(k), "HboM0NJuI1pmwGmfpMaeC23NzShaJfrrC+PwFzu9dWA="), "group-derived device key matches the Python vector")
        let s = try ProvisioningTopics.writeOperationStatus(requestID: 12, operationID: bytes("4.abc.def-01"), into: out)
        check(same(text(s), "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=12&operationId=4.abc.def-01"),
              "operation-status topic")
        let b = try RegistrationRequest.writeBody(registrationID: bytes("my-device-1"), payload: bytes("{\"a\":[1,2]}"), into: out)
        check(same(text(b), "{\"registrationId\":\"my-device-1\",\"payload\":{\"a\":[1,2]}}"), "register body with a payload")
    } catch {
        check(false, "provisioning writers threw")
    }

    do throws(ProvisioningProtocolError) {
        _ = try ProvisioningCredentials.deriveDeviceKey(groupKey: bytes("not base64!"), registrationID: bytes("dev"), crypto: MbedTLSCrypto(), into: out)
        check(false, "a group key that is not Base64 is refused")
    } catch {
        check(error == .invalidKey, "a group key that is not Base64 is refused")
    }

    // Answers, as ProvisioningClient reads them.
    do throws(ProvisioningProtocolError) {
        let accepted = try ProvisioningResponseTopic.parse(bytes("$dps/registrations/res/202/?$rid=1&retry-after=3"))
        check(accepted == ProvisioningResponseTopic(status: 202, requestID: 1, retryAfter: 3), "202 answer topic with retry-after")
        let throttled = try ProvisioningResponseTopic.parse(bytes("$dps/registrations/res/429/?$rid=4294967295&retry-after=5"))
        check(throttled?.isRetry == true && throttled?.requestID == UInt32.max, "429 answer topic (largest $rid)")
        check(try ProvisioningResponseTopic.parse(bytes("devices/dev1/messages/devicebound/x")) == nil, "a topic not from DPS is not an answer")
    } catch {
        check(false, "answer topics threw")
    }
    do throws(ProvisioningProtocolError) {
        _ = try ProvisioningResponseTopic.parse(bytes("$dps/registrations/res/2x2/?$rid=1"))
        check(false, "a malformed status is refused")
    } catch {
        check(error == .malformedTopic, "a malformed status is refused")
    }

    let assigned = bytes("{\"operationId\":\"4.abc.def-01\",\"status\":\"assigned\",\"registrationState\":{\"registrationId\":\"my-device-1\",\"assignedHub\":\"contoso.azure-devices.net\",\"deviceId\":\"my-device-1\",\"status\":\"assigned\"}}")
    do throws(ProvisioningProtocolError) {
        let response = try RegistrationResponse.parse(assigned)
        check(response.status == .assigned, "assigned body: status")
        if let hub = response.assignedHub, let device = response.deviceID {
            let h = try RegistrationResponse.copy(hub, from: assigned, into: out)
            check(same(text(h), "contoso.azure-devices.net"), "assigned body: assignedHub")
            let d = try RegistrationResponse.copy(device, from: assigned, into: out)
            check(same(text(d), "my-device-1"), "assigned body: deviceId")
        } else {
            check(false, "assigned body: assignedHub and deviceId present")
        }
    } catch {
        check(false, "assigned body threw")
    }

    let failed = bytes("{\"operationId\":\"4.abc\",\"status\":\"failed\",\"registrationState\":{\"status\":\"failed\",\"errorCode\":400209,\"errorMessage\":\"Custom allocation failed\"}}")
    do throws(ProvisioningProtocolError) {
        let response = try RegistrationResponse.parse(failed)
        let m = try response.errorMessage.map { (token) throws(ProvisioningProtocolError) in
            try RegistrationResponse.copy(token, from: failed, into: out)
        } ?? 0
        check(response.status == .failed && response.errorCode == 400_209 && same(text(m), "Custom allocation failed"),
              "failed body: status, errorCode, errorMessage")
    } catch {
        check(false, "failed body threw")
    }

    do throws(ProvisioningProtocolError) {
        _ = try RegistrationResponse.parse(bytes("{\"status\":\"assigned\",\"registrationState\":{\"assignedHub\":7}}"))
        check(false, "a field of the wrong type is refused")
    } catch {
        if case .malformedBody = error { check(true, "a field of the wrong type is refused") } else {
            check(false, "a field of the wrong type is refused")
        }
    }
}
