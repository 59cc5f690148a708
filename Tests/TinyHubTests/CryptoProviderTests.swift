import Foundation
import Testing
@testable import TinyHub
import TinyPlatform
import TinyTLS

/// The hub layer with a crypto other than mbedTLS: `SoftwareCrypto` (SHA-256 and HMAC written in
/// the test from FIPS 180-4 and RFC 2104) against RFC 4231's vectors, then signing SAS tokens
/// and a whole HTTPS exchange that the fixture checks with Python's `hmac`.
@Suite struct CryptoProviderTests {
    /// RFC 4231 §4: test cases 1, 2, 3, 4, 6 and 7 (5 truncates the tag).
    static let rfc4231: [(key: [UInt8], data: [UInt8], mac: String)] = [
        ([UInt8](repeating: 0x0B, count: 20), Array("Hi There".utf8),
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        ([UInt8](repeating: 0xAA, count: 20), [UInt8](repeating: 0xDD, count: 50),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        (Array(1...25), [UInt8](repeating: 0xCD, count: 50),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        ([UInt8](repeating: 0xAA, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        ([UInt8](repeating: 0xAA, count: 131),
         Array(("This is a test using a larger than block-size key and a larger than block-size data. "
                + "The key needs to be hashed before being used by the HMAC algorithm.").utf8),
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ]

    static func mac<C: CryptoProvider>(_ crypto: C, key: [UInt8], data: [UInt8]) throws -> String {
        var out = [UInt8](repeating: 0, count: 32)
        try key.withUnsafeBytes { k in
            try data.withUnsafeBytes { d in try out.withUnsafeMutableBytes { try crypto.hmacSHA256(key: k, message: d, into: $0) } }
        }
        return hex(out)
    }

    @Test func bothProvidersMatchRFC4231() throws {
        for vector in Self.rfc4231 {
            #expect(try Self.mac(SoftwareCrypto(), key: vector.key, data: vector.data) == vector.mac)
            #expect(try Self.mac(MbedTLSCrypto(), key: vector.key, data: vector.data) == vector.mac)
        }
        // FIPS 180-4's own example ("abc") for the test's SHA-256.
        #expect(hex(SoftwareCrypto.sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func sasTokensAreTheSameWithEitherProvider() throws {
        let software = SoftwareCrypto()
        func token<C: CryptoProvider>(_ crypto: C) throws -> String {
            try written(512) { out in
                try withBytes("myhub.azure-devices.net") { host in
                    try withBytes("dev 1/#") { device in
                        try withBytes(httpsTestKey) { key in
                            try SASToken.write(host: host, deviceID: device, key: key, expiry: 1_700_000_000, crypto: crypto, into: out)
                        }
                    }
                }
            }
        }
        let expected = try token(MbedTLSCrypto())
        #expect(try token(software) == expected)
        #expect(software.calls == 1)
        #expect(expected.hasPrefix("SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev%201%2F%23&sig="))
    }

    @Test func theHTTPSClientSignsWithTheProviderItWasGiven() throws {
        let fixture = try HubFixture()
        let software = SoftwareCrypto()
        let f = try FixtureClient(fixture, crypto: software)
        #expect(software.calls == 1, "the first token is minted at init")
        try f.client.sendTelemetry(f.arena.bytes("{\"t\":1}"))
        // The fixture checks the signature with Python's hmac: a wrong one would be a 401.
        let r = try #require(try fixture.requests().first)
        #expect(r.header("Authorization")?.hasPrefix("SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=") == true)
        #expect(r.body == Array("{\"t\":1}".utf8))
    }
}
