import Testing
import Foundation
import TinyPlatform
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

    // Keys around SHA-256's 64-byte block (longer ones are hashed first), key bytes 0xAA; 131 bytes
    // is RFC 4231 test case 6. python3 -c "import hmac,hashlib;print(hmac.new(b'\xaa'*N,MSG,hashlib.sha256).hexdigest())"
    @Test(arguments: [
        (0, "", "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"),
        (64, "block-sized key", "8b7c105601c42c66786073a7ecf5bc2cb5537e915d740667a9275ad0f667cac5"),
        (65, "one byte over the block", "54dac5203331946e01b3cbe3d99e209417f8842e6d2fa213ca129c4842257eea"),
        (131, "Test Using Larger Than Block-Size Key - Hash Key First", "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
    ])
    func hmacKeyLengths(keyLength: Int, message: String, expected: String) throws {
        let key = [UInt8](repeating: 0xAA, count: keyLength)
        var mac = [UInt8](repeating: 0, count: 40)
        try key.withUnsafeBytes { key in
            try withBytes(message) { message in
                try mac.withUnsafeMutableBytes { out in try HMACSHA256.authenticate(key: key, message: message, into: out) }
            }
        }
        #expect(hex(Array(mac[0..<32])) == expected)
        #expect(mac[32...].allSatisfy { $0 == 0 }, "only the first 32 bytes are written")
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
}
