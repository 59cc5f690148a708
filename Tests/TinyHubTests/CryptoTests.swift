import Testing
import Foundation
import TinyTLS

@Suite struct CryptoTests {
    // python3 -c "import hashlib;print(hashlib.sha256(b'abc').hexdigest())"
    @Test func sha256OfABC() throws {
        var digest = [UInt8](repeating: 0, count: 32)
        try withBytes("abc") { input in
            try digest.withUnsafeMutableBytes { out in try SHA256.hash(input, into: out) }
        }
        #expect(hex(digest) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    // python3 -c "import hmac,hashlib;print(hmac.new(b'key',b'The quick brown fox jumps over the lazy dog',hashlib.sha256).hexdigest())"
    @Test func hmacVector() throws {
        var mac = [UInt8](repeating: 0, count: 32)
        try withBytes("key") { key in
            try withBytes("The quick brown fox jumps over the lazy dog") { message in
                try mac.withUnsafeMutableBytes { out in try HMACSHA256.authenticate(key: key, message: message, into: out) }
            }
        }
        #expect(hex(mac) == "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
    }

    @Test func shortOutputsThrow() {
        var small = [UInt8](repeating: 0, count: 31)
        #expect(throws: CryptoError.bufferTooSmall(needed: 32)) {
            try withBytes("abc") { input in try small.withUnsafeMutableBytes { try SHA256.hash(input, into: $0) } }
        }
        #expect(throws: CryptoError.bufferTooSmall(needed: 32)) {
            try withBytes("k") { key in try small.withUnsafeMutableBytes { try HMACSHA256.authenticate(key: key, message: key, into: $0) } }
        }
    }

    @Test(arguments: [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
                      ("foobar", "Zm9vYmFy")])
    func base64RFC4648(plain: String, encoded: String) throws {
        #expect(try written(64) { out in try withBytes(plain) { try Base64.encode($0, into: out) } } == encoded)
        #expect(try written(64) { out in try withBytes(encoded) { try Base64.decode($0, into: out) } } == plain)
    }

    @Test func base64LongInputCrossesChunks() throws {
        let plain = String(repeating: "0123456789", count: 20) // 200 bytes > one 48-byte chunk
        let expected = Data(plain.utf8).base64EncodedString()
        let encoded = try written(400) { out in try withBytes(plain) { try Base64.encode($0, into: out) } }
        #expect(encoded == expected)
        #expect(try written(400) { out in try withBytes(encoded) { try Base64.decode($0, into: out) } } == plain)
    }

    @Test func base64Errors() {
        #expect(throws: CryptoError.bufferTooSmall(needed: 8)) {
            try written(7) { out in try withBytes("foob") { try Base64.encode($0, into: out) } }
        }
        #expect(throws: CryptoError.bufferTooSmall(needed: 6)) {
            try written(5) { out in try withBytes("Zm9vYmFy") { try Base64.decode($0, into: out) } }
        }
        for bad in ["Zm9v!mFy", "Zm=9", "Zg=", "Z", "====", "Zm9vYmFy==="] {
            #expect(throws: CryptoError.invalidBase64, "\(bad)") {
                try written(64) { out in try withBytes(bad) { try Base64.decode($0, into: out) } }
            }
        }
    }
}
