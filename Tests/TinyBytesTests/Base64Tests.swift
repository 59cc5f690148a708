import Foundation
import Testing
import TinyBytes

@Suite struct Base64Tests {
    @Test(arguments: [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
                      ("foobar", "Zm9vYmFy")])
    func rfc4648Vectors(plain: String, encoded: String) throws {
        #expect(try written(64) { out in try withBytes(plain) { try Base64.encode($0, into: out) } } == encoded)
        #expect(try written(64) { out in try withBytes(encoded) { try Base64.decode($0, into: out) } } == plain)
    }

    @Test func everyByteValueAgainstFoundation() throws {
        let plain = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let expected = Data(plain).base64EncodedString()
        var out = [UInt8](repeating: 0, count: 400)
        let n = try plain.withUnsafeBytes { p in try out.withUnsafeMutableBytes { try Base64.encode(p, into: $0) } }
        #expect(String(decoding: out[0..<n], as: UTF8.self) == expected)
        var back = [UInt8](repeating: 0, count: 300)
        let m = try out.withUnsafeBytes { e in
            try back.withUnsafeMutableBytes { try Base64.decode(UnsafeRawBufferPointer(rebasing: e[0..<n]), into: $0) }
        }
        #expect(m == 300)
        #expect(back == plain)
    }

    @Test func exactSizesAreReported() {
        #expect(throws: Base64Error.bufferTooSmall(needed: 8)) {
            try written(7) { out in try withBytes("foob") { try Base64.encode($0, into: out) } }
        }
        #expect(throws: Base64Error.bufferTooSmall(needed: 6)) {
            try written(5) { out in try withBytes("Zm9vYmFy") { try Base64.decode($0, into: out) } }
        }
        #expect(throws: Base64Error.bufferTooSmall(needed: 4)) {
            try written(3) { out in try withBytes("Zm9vYg==") { try Base64.decode($0, into: out) } }
        }
    }

    @Test(arguments: ["Zm9v!mFy", "Zm=9", "Zg=", "Z", "====", "Zm9vYmFy===", "Zg=a", "A===", "Zm 9v", "Zm9v\n"])
    func strictDecoding(bad: String) {
        // Invalid whatever the output's size: a zero-byte buffer too.
        for capacity in [0, 64] {
            #expect(throws: Base64Error.invalid, "\(bad)") {
                try written(capacity) { out in try withBytes(bad) { try Base64.decode($0, into: out) } }
            }
        }
    }

    @Test func sinkAppendsAndCountsWhatDoesNotFit() {
        let fits = sink(8) { s in withBytes("foob") { s.base64($0) } }
        #expect(fits.text == "Zm9vYg==" && !fits.overflowed)
        let short = sink(7) { s in withBytes("foob") { s.base64($0) } }
        #expect(short.count == 8 && short.overflowed)
        #expect(short.raw == [UInt8](repeating: 0xAA, count: 7), "text that does not all fit is not written")
    }
}
