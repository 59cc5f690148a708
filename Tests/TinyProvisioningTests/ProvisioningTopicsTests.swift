import Testing
import TinyProvisioning

@Suite struct ProvisioningTopicsTests {
    @Test func requestTopics() throws {
        let register = try written { out throws(ProvisioningProtocolError) in
            try ProvisioningTopics.writeRegister(requestID: 7, into: out)
        }
        #expect(register == "$dps/registrations/PUT/iotdps-register/?$rid=7")
        let status = try withBytes("4.d0a671905ea5b2c8.42d78160-4c78") { op in
            try written { out throws(ProvisioningProtocolError) in
                try ProvisioningTopics.writeOperationStatus(requestID: 8, operationID: op, into: out)
            }
        }
        #expect(status == "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=8&operationId=4.d0a671905ea5b2c8.42d78160-4c78")
    }

    @Test func hostileOperationIDsAreRefused() {
        for op in ["", "a/b", "a#", "a+b", "a&x=1", "a\u{0}", String(repeating: "a", count: 129)] {
            withBytes(op) { bytes in
                #expect(throws: ProvisioningProtocolError.invalidOperationID) {
                    _ = try written { out throws(ProvisioningProtocolError) in
                        try ProvisioningTopics.writeOperationStatus(requestID: 1, operationID: bytes, into: out)
                    }
                }
            }
        }
    }

    func parse(_ topic: String) throws(ProvisioningProtocolError) -> ProvisioningResponseTopic? {
        var result: Result<ProvisioningResponseTopic?, ProvisioningProtocolError> = .success(nil)
        withBytes(topic) { bytes in
            do throws(ProvisioningProtocolError) { result = .success(try ProvisioningResponseTopic.parse(bytes)) }
            catch { result = .failure(error) }
        }
        return try result.get()
    }

    @Test func responseTopics() throws {
        #expect(try parse("$dps/registrations/res/202/?$rid=1&retry-after=3")
            == ProvisioningResponseTopic(status: 202, requestID: 1, retryAfter: 3))
        #expect(try parse("$dps/registrations/res/200/?$rid=42")
            == ProvisioningResponseTopic(status: 200, requestID: 42, retryAfter: nil))
        #expect(try parse("$dps/registrations/res/429/?retry-after=17&$rid=3&x=y")
            == ProvisioningResponseTopic(status: 429, requestID: 3, retryAfter: 17))
        #expect(try parse("$dps/registrations/res/401/")
            == ProvisioningResponseTopic(status: 401, requestID: nil, retryAfter: nil))
        #expect(try parse("$iothub/twin/res/200/?$rid=1") == nil)
        #expect(try parse("devices/x/messages/devicebound/") == nil)
        #expect(try parse("$dps/registrations/res/202/?$rid=1")?.isRetry == true)
        #expect(try parse("$dps/registrations/res/429/?$rid=1")?.isRetry == true)
        #expect(try parse("$dps/registrations/res/200/?$rid=1")?.isRetry == false)
    }

    @Test func malformedResponseTopicsAreTypedErrors() {
        for topic in ["$dps/registrations/res/", "$dps/registrations/res/20/", "$dps/registrations/res/2000/",
                      "$dps/registrations/res/099/", "$dps/registrations/res/600/", "$dps/registrations/res/2a2/",
                      "$dps/registrations/res/202", "$dps/registrations/res/202/x", "$dps/registrations/res/202/?$rid",
                      "$dps/registrations/res/202/?$rid=", "$dps/registrations/res/202/?$rid=-1",
                      "$dps/registrations/res/202/?retry-after=4294967296", "$dps/registrations/res/202/?$rid=1&&a=b",
                      "$dps/registrations/res/202/?retry-after=3s"] {
            #expect(throws: ProvisioningProtocolError.malformedTopic, "\(topic)") { _ = try parse(topic) }
        }
    }

    @Test func everyPrefixAndByteFlipOfATopicIsHandled() throws {
        let valid = Array("$dps/registrations/res/202/?$rid=12&retry-after=5".utf8)
        for end in 0...valid.count {
            let cut = String(decoding: valid[0..<end], as: UTF8.self)
            _ = try? parse(cut) // must not trap
        }
        for i in 0..<valid.count {
            for value: UInt8 in [0x00, 0x2F, 0x3F, 0x26, 0x3D, 0xFF] {
                var mutated = valid
                mutated[i] = value
                mutated.withUnsafeBytes { bytes in _ = try? ProvisioningResponseTopic.parse(bytes) }
            }
        }
        #expect(try parse(String(decoding: valid, as: UTF8.self))?.retryAfter == 5)
    }
}
