import Testing
import TinyBytes

@Suite struct PercentEncodingTests {
    // python3 -c "import urllib.parse as u;print(u.quote('a b/c+d#e$f%g=h~i_j.k-l é', safe=''))"
    @Test func encodesLikePythonQuote() throws {
        let out = try written { buffer in try withBytes("a b/c+d#e$f%g=h~i_j.k-l é") { try PercentEncoding.encode($0, into: buffer) } }
        #expect(out == "a%20b%2Fc%2Bd%23e%24f%25g%3Dh~i_j.k-l%20%C3%A9")
    }

    @Test func unreservedSet() {
        var unreserved = ""
        for b in UInt8(0)...UInt8(255) where PercentEncoding.isUnreserved(b) { unreserved.append(Character(UnicodeScalar(b))) }
        #expect(unreserved == "-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~")
    }

    @Test func decodesEitherCase() throws {
        let out = try written { buffer in try withBytes("%2f%2F%c3%A9+x%20") { try PercentEncoding.decode($0, into: buffer) } }
        #expect(out == "//é+x ")
    }

    @Test func roundTripAllBytes() throws {
        let all = (0...255).map { UInt8($0) }
        var encoded = [UInt8](repeating: 0, count: 800)
        let n = try all.withUnsafeBytes { input in try encoded.withUnsafeMutableBytes { try PercentEncoding.encode(input, into: $0) } }
        #expect(n == 66 + 190 * 3)
        var decoded = [UInt8](repeating: 0, count: 256)
        let m = try encoded.withUnsafeBytes { e in
            try decoded.withUnsafeMutableBytes { try PercentEncoding.decode(UnsafeRawBufferPointer(rebasing: e[0..<n]), into: $0) }
        }
        #expect(m == 256)
        #expect(decoded == all)
    }

    @Test func decodeInPlace() throws {
        var bytes = Array("a%41%42c".utf8)
        let n = try bytes.withUnsafeMutableBytes { buffer in try PercentEncoding.decode(UnsafeRawBufferPointer(buffer), into: buffer) }
        #expect(String(decoding: bytes[0..<n], as: UTF8.self) == "aABc")
    }

    @Test(arguments: [("%", 0), ("ab%4", 2), ("%G1", 0), ("x%1g", 1), ("%%41", 0), ("ok%2", 2)])
    func malformedEscapes(input: String, offset: Int) {
        #expect(throws: PercentEncodingError.malformedEscape(offset: offset)) {
            try written { buffer in try withBytes(input) { try PercentEncoding.decode($0, into: buffer) } }
        }
    }

    @Test func smallBuffers() {
        #expect(throws: PercentEncodingError.bufferTooSmall(needed: 9)) {
            try written(8) { buffer in try withBytes("a b c") { try PercentEncoding.encode($0, into: buffer) } }
        }
        #expect(throws: PercentEncodingError.bufferTooSmall(needed: 3)) {
            try written(2) { buffer in try withBytes("%41bc") { try PercentEncoding.decode($0, into: buffer) } }
        }
    }
}
