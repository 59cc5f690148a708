import Testing
import TinyMQTT
@testable import TinyHub
import TinyTLS

/// `HubIdentitySizes` against what the client really writes: the client id and user name of
/// `HubMQTTIdentity`, the SAS token of `SASToken` (with the longest expiry a UInt64 has) and
/// the CONNECT packet of `MQTTEncoder` carrying them.
@Suite struct HubIdentitySizesTests {
    static let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

    static let connectionStrings = [
        "HostName=myhub.azure-devices.net;DeviceId=dev1;SharedAccessKey=\(key)",
        "HostName=tinyhub-local.azure-devices.net;GatewayHostName=localhost;DeviceId=demo-device;SharedAccessKey=\(key)",
        "HostName=MyHub.azure-devices.net;DeviceId=dev 1=é;ModuleId=my module;SharedAccessKeyName=owner;SharedAccessKey=\(key)",
        "HostName=myhub.azure-devices.net;DeviceId=x509-device;x509=true",
    ]

    /// (the sizes, what the client writes: identity bytes, CONNECT bytes; the prefix of `HubTopics.telemetry`).
    func measure(_ text: String) throws -> (sizes: HubIdentitySizes, identity: Int, connect: Int, prefix: Int) {
        try withBytes(text) { bytes in
            let connection = try ConnectionString.parse(bytes)
            let sizes = HubIdentitySizes(connection, textLength: bytes.count)
            var scratch = [UInt8](repeating: 0, count: 2_048)
            return try scratch.withUnsafeMutableBytes { out in
                let clientID = try HubMQTTIdentity.clientID(for: connection, into: out)
                let username = try HubMQTTIdentity.username(for: connection, into: UnsafeMutableRawBufferPointer(rebasing: out[clientID...]))
                var token = 0
                if !connection.usesX509 {
                    token = try SASToken.write(for: connection, expiry: .max, crypto: MbedTLSCrypto(),
                                               into: UnsafeMutableRawBufferPointer(rebasing: out[(clientID + username)...]))
                }
                let written = UnsafeRawBufferPointer(out)
                let options = MQTTConnectOptions(
                    clientID: UnsafeRawBufferPointer(rebasing: written[0..<clientID]),
                    username: UnsafeRawBufferPointer(rebasing: written[clientID..<(clientID + username)]),
                    password: token > 0 ? UnsafeRawBufferPointer(rebasing: written[(clientID + username)..<(clientID + username + token)]) : nil)
                var packet = [UInt8](repeating: 0, count: 2_048)
                let connect = try packet.withUnsafeMutableBytes { try MQTTEncoder.connect(options, into: $0) }
                let prefix = try HubTopics.telemetry(deviceID: connection.deviceID, moduleID: connection.moduleID,
                                                     into: UnsafeMutableRawBufferPointer(rebasing: out[1_024...]))
                return (sizes, bytes.count + clientID + username + token, connect, prefix)
            }
        }
    }

    @Test(arguments: connectionStrings) func sizesHoldWhatTheClientWrites(_ text: String) throws {
        let m = try measure(text)
        #expect(m.sizes.identity >= m.identity)
        #expect(m.sizes.connectPacket >= m.connect)
        #expect(m.sizes.telemetryTopicPrefix == m.prefix)
    }

    /// Only the signature's encoding (44 characters, each at most 3 bytes) is not known before
    /// signing: the sizes are otherwise exact.
    @Test(arguments: connectionStrings) func sizesAreTight(_ text: String) throws {
        let m = try measure(text)
        let slack = text.contains("x509=true") ? 0 : 2 * SASToken.signatureLength
        #expect(m.sizes.identity - m.identity <= slack)
        #expect(m.sizes.connectPacket - m.connect <= slack + 3) // remaining length: 4 bytes assumed
    }
}
