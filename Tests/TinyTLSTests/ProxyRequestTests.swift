import Foundation
import Testing
import TinyPlatform
@testable import TinyTLS

/// The CONNECT request a `TLSTransport` sends to its proxy. Expected bytes are written out here
/// from RFC 9110 §9.3.6 / RFC 9112 §3.2.3 (authority form, `Host` = the authority) and RFC 7617
/// (its own example, and Foundation's Base64 for every other length), not taken from the writer.
@Suite struct ProxyRequestTests {
    /// Writes the request into a buffer of `capacity` (the writer's own bound unless given).
    func request(host: String, port: UInt16, user: String? = nil, password: String = "", capacity: Int? = nil) throws -> String {
        let userBytes = user.map { Array($0.utf8) }, passwordBytes = Array(password.utf8)
        let hostBytes = Array(host.utf8)
        let credentialCount = user.map { $0.utf8.count + 1 + passwordBytes.count }
        let size = capacity ?? ProxyConnectRequest.capacity(hostCount: hostBytes.count, credentialCount: credentialCount)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 1)
        defer { buffer.deallocate() }
        let length: Int = try hostBytes.withUnsafeBytes { h in
            try passwordBytes.withUnsafeBytes { p in
                guard let userBytes else {
                    return try ProxyConnectRequest.write(into: buffer, host: h, port: port, credentials: nil)
                }
                return try userBytes.withUnsafeBytes { u in
                    try ProxyConnectRequest.write(into: buffer, host: h, port: port, credentials: ProxyCredentials(user: u, password: p))
                }
            }
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[0..<length]), as: UTF8.self)
    }

    @Test func withoutCredentials() throws {
        #expect(try request(host: "tinyhub.azure-devices.net", port: 8883)
            == "CONNECT tinyhub.azure-devices.net:8883 HTTP/1.1\r\nHost: tinyhub.azure-devices.net:8883\r\n\r\n")
    }

    @Test func basicCredentialsFromRFC7617() throws {
        // RFC 7617 §2: user "Aladdin", password "open sesame".
        #expect(try request(host: "hub.example", port: 443, user: "Aladdin", password: "open sesame")
            == "CONNECT hub.example:443 HTTP/1.1\r\nHost: hub.example:443\r\n"
            + "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n")
    }

    @Test func everyCredentialLengthMatchesFoundationsBase64() throws {
        // Every length of user:password from 1 to 61 bytes (all three Base64 tails), UTF-8 included.
        let letters = Array("aé9Z")
        for userLength in 0...20 {
            for passwordLength in 0...40 {
                let user = String((0..<userLength).map { letters[$0 % letters.count] })
                let password = String((0..<passwordLength).map { Character(UnicodeScalar(UInt8(0x21 + ($0 * 7) % 94))) })
                let expected = Data("\(user):\(password)".utf8).base64EncodedString()
                let text = try request(host: "h.example", port: 1, user: user, password: password)
                #expect(text == "CONNECT h.example:1 HTTP/1.1\r\nHost: h.example:1\r\nProxy-Authorization: Basic \(expected)\r\n\r\n",
                        "user \(userLength) characters, password \(passwordLength)")
            }
        }
    }

    @Test(arguments: [(UInt16(1), "1"), (80, "80"), (443, "443"), (8883, "8883"), (10_000, "10000"), (65_535, "65535")])
    func portDigits(port: UInt16, digits: String) throws {
        #expect(try request(host: "h", port: port) == "CONNECT h:\(digits) HTTP/1.1\r\nHost: h:\(digits)\r\n\r\n")
    }

    @Test func anIPv6LiteralGoesInBrackets() throws {
        #expect(try request(host: "::1", port: 8883) == "CONNECT [::1]:8883 HTTP/1.1\r\nHost: [::1]:8883\r\n\r\n")
        #expect(try request(host: "127.0.0.1", port: 443) == "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n")
    }

    @Test func refusedInputsAreConfigurationErrors() {
        func refused(_ body: () throws -> String, sourceLocation: SourceLocation = #_sourceLocation) {
            do { _ = try body(); Issue.record("accepted", sourceLocation: sourceLocation) } catch {
                guard case .invalidConfiguration? = error as? TransportError else {
                    Issue.record("\(error)", sourceLocation: sourceLocation)
                    return
                }
            }
        }
        refused { try request(host: "has space", port: 1) }
        refused { try request(host: "", port: 1) }
        refused { try request(host: "a\r\nX-Injected: 1", port: 1) }
        refused { try request(host: "h", port: 1, user: "user:name", password: "p") }
        refused { try request(host: "h", port: 1, user: "user\n", password: "p") }
        refused { try request(host: "h", port: 1, user: "u", password: "p\r\nX: y") }
        refused { try request(host: "h", port: 1, user: "u", password: "p\u{7F}") }
        // A buffer one byte short of the bound is refused before anything is written.
        let bound = ProxyConnectRequest.capacity(hostCount: 1, credentialCount: 3)
        refused { try request(host: "h", port: 1, user: "u", password: "p", capacity: bound - 1) }
    }

    @Test func aPasswordMayHoldColonsAndBeEmpty() throws {
        #expect(try request(host: "h", port: 2, user: "u", password: "a:b")
            == "CONNECT h:2 HTTP/1.1\r\nHost: h:2\r\nProxy-Authorization: Basic \(Data("u:a:b".utf8).base64EncodedString())\r\n\r\n")
        #expect(try request(host: "h", port: 2, user: "u", password: "")
            == "CONNECT h:2 HTTP/1.1\r\nHost: h:2\r\nProxy-Authorization: Basic dTo=\r\n\r\n")
    }

    @Test func theTransportKeepsTheRequestAndRefusesBadCredentialsAtInit() throws {
        let user = Array("Aladdin".utf8), password = Array("open sesame".utf8)
        try user.withUnsafeBytes { u in
            try password.withUnsafeBytes { p in
                let proxy = ProxyConfiguration(host: "127.0.0.1", port: 3128, credentials: ProxyCredentials(user: u, password: p))
                let tunnel = try ProxyTunnel(destination: "hub.example", port: 8883, proxy: proxy)
                defer { tunnel.release() }
                #expect(String(decoding: tunnel.request, as: UTF8.self)
                    == "CONNECT hub.example:8883 HTTP/1.1\r\nHost: hub.example:8883\r\nProxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n")
            }
        }
        let bad = Array("a:b".utf8)
        try bad.withUnsafeBytes { u in
            let proxy = ProxyConfiguration(host: "127.0.0.1", port: 3128, credentials: ProxyCredentials(user: u, password: u))
            do {
                _ = try TLSTransport(TLSConfiguration(host: "hub.example", port: 8883, proxy: proxy))
                Issue.record("a user name with ':' was accepted")
            } catch {
                guard case .invalidConfiguration? = error as? TransportError else { Issue.record("\(error)"); return }
            }
        }
    }
}
