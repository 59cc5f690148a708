import Testing
import TinyPlatform
@testable import TinyTLS

/// `ProxyCredentials(user:password:)` with strings: the credentials keep their own copy, so the
/// CONNECT request is right after the strings are gone.
@Suite struct ProxyTextCredentialsTests {
    /// Credentials made from strings built at run time inside a function, so no one else holds them.
    static func credentials(_ user: [UInt8], _ password: [UInt8]) -> ProxyCredentials {
        ProxyCredentials(user: String(decoding: user, as: UTF8.self), password: String(decoding: password, as: UTF8.self))
    }

    @Test func theBytesAreTheStringsAndOutliveThem() {
        let credentials = Self.credentials(Array("Aladdin".utf8), Array("open sesame".utf8))
        // Other allocations of the same sizes, in case the strings' memory is reused.
        let noise = (0..<8).map { String(repeating: "x", count: 7 + $0) }
        #expect(Array(credentials.user) == Array("Aladdin".utf8))
        #expect(Array(credentials.password) == Array("open sesame".utf8))
        #expect(noise.count == 8)
    }

    @Test func aCopyOfTheCredentialsKeepsTheBytes() {
        var copy: ProxyCredentials? = nil
        do {
            let original = Self.credentials(Array("user-é".utf8), [])
            copy = original
        }
        #expect(Array(copy!.user) == Array("user-é".utf8))
        #expect(copy!.password.isEmpty)
    }

    @Test func theRequestCarriesTheBase64OfTheStrings() throws {
        // RFC 7617 §2: user "Aladdin", password "open sesame".
        let proxy = ProxyConfiguration(host: "proxy.example", port: 3128,
                                       credentials: Self.credentials(Array("Aladdin".utf8), Array("open sesame".utf8)))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 1)
        defer { buffer.deallocate() }
        let host = Array("hub.example".utf8)
        let length = try host.withUnsafeBytes { h in
            try ProxyConnectRequest.write(into: buffer, host: h, port: 443, credentials: proxy.credentials)
        }
        #expect(String(decoding: UnsafeRawBufferPointer(rebasing: buffer[0..<length]), as: UTF8.self)
            == "CONNECT hub.example:443 HTTP/1.1\r\nHost: hub.example:443\r\n"
            + "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n")
    }

    @Test func aUserNameWithAColonIsStillRefused() {
        let credentials = Self.credentials(Array("a:b".utf8), Array("p".utf8))
        #expect(throws: TransportError.self) { try ProxyConnectRequest.credentialCount(credentials) }
    }

    @Test func ownedTextSplitsItsCopyByString() {
        let texts = OwnedText(["", "abc", "", "déf"])
        #expect(texts.count == 4)
        #expect(texts[0].isEmpty && texts[2].isEmpty)
        #expect(Array(texts[1]) == Array("abc".utf8))
        #expect(Array(texts[3]) == Array("déf".utf8))
        #expect(OwnedText([]).count == 0)
    }
}
