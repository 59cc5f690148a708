// libFuzzer entry for Base64 (`TinyBytes.Base64`, the package's one Base64).
//
// 1. Decode: the input is Base64 text. An independent strict decoder written here (RFC 4648 §4:
//    length a multiple of 4, `+/` alphabet, at most two `=` and only at the end) is the oracle:
//    `Base64.decode` must accept exactly what it accepts, with the same bytes, into an exact-size
//    buffer, and report `bufferTooSmall(needed:)` with the exact size into a smaller one. Accepted
//    text re-encodes to itself when it is canonical (unused bits zero), and always to text that
//    decodes to the same bytes.
// 2. Encode: the input as bytes must encode to the reference encoding (exact buffer; one byte
//    less is `bufferTooSmall`), and decode back to the input.
import TinyBytes

@inline(never)
func fuzzFail(_ message: String, line: UInt = #line) -> Never {
    fatalError("fuzz oracle: \(message)", line: line)
}

func check(_ condition: Bool, _ message: @autoclosure () -> String, line: UInt = #line) {
    if !condition { fuzzFail(message(), line: line) }
}

let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

func sextet(_ c: UInt8) -> UInt32? {
    switch c {
    case 0x41...0x5A: return UInt32(c - 0x41)
    case 0x61...0x7A: return UInt32(c - 0x61 + 26)
    case 0x30...0x39: return UInt32(c - 0x30 + 52)
    case 0x2B: return 62
    case 0x2F: return 63
    default: return nil
    }
}

/// Strict reference decoder; also says whether the text is the canonical encoding of its bytes.
func referenceDecode(_ text: [UInt8]) -> (bytes: [UInt8], canonical: Bool)? {
    guard text.count % 4 == 0 else { return nil }
    var padding = 0
    for (i, c) in text.enumerated() where c == 0x3D {
        guard i >= text.count - 2 else { return nil }
        padding += 1
    }
    if padding == 1, text.last != 0x3D { return nil } // "xx=x"
    var out: [UInt8] = []
    var canonical = true
    var i = 0
    while i < text.count {
        let last = i + 4 == text.count
        let pads = last ? padding : 0
        var v: UInt32 = 0
        for j in 0..<4 {
            let c = text[i + j]
            if j >= 4 - pads { v <<= 6; continue }
            guard let s = sextet(c) else { return nil }
            v = v << 6 | s
        }
        out.append(UInt8(v >> 16))
        if pads < 2 { out.append(UInt8(v >> 8 & 0xFF)) }
        if pads < 1 { out.append(UInt8(v & 0xFF)) }
        if pads == 2, v & 0xFFFF != 0 { canonical = false }
        if pads == 1, v & 0xFF != 0 { canonical = false }
        i += 4
    }
    return (out, canonical)
}

func referenceEncode(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var i = 0
    while i < bytes.count {
        let n = min(3, bytes.count - i)
        var v = UInt32(bytes[i]) << 16
        if n > 1 { v |= UInt32(bytes[i + 1]) << 8 }
        if n > 2 { v |= UInt32(bytes[i + 2]) }
        out.append(alphabet[Int(v >> 18 & 63)])
        out.append(alphabet[Int(v >> 12 & 63)])
        out.append(n > 1 ? alphabet[Int(v >> 6 & 63)] : 0x3D)
        out.append(n > 2 ? alphabet[Int(v & 63)] : 0x3D)
        i += 3
    }
    return out
}

/// Runs `body` with an exact-size heap buffer (so ASan sees a write past its end).
func withBuffer<R>(_ count: Int, _ body: (UnsafeMutableRawBufferPointer) -> R) -> R {
    let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 1)
    defer { storage.deallocate() }
    return body(UnsafeMutableRawBufferPointer(rebasing: storage[0..<count]))
}

func decode(_ text: UnsafeRawBufferPointer, capacity: Int) -> Result<[UInt8], Base64Error> {
    withBuffer(capacity) { out in
        do throws(Base64Error) {
            let n = try Base64.decode(text, into: out)
            check(n >= 0 && n <= capacity, "decode length \(n) outside the buffer")
            return .success(Array(UnsafeRawBufferPointer(rebasing: out[0..<n])))
        } catch {
            return .failure(error)
        }
    }
}

func encode(_ bytes: UnsafeRawBufferPointer, capacity: Int) -> Result<[UInt8], Base64Error> {
    withBuffer(capacity) { out in
        do throws(Base64Error) {
            let n = try Base64.encode(bytes, into: out)
            check(n >= 0 && n <= capacity, "encode length \(n) outside the buffer")
            return .success(Array(UnsafeRawBufferPointer(rebasing: out[0..<n])))
        } catch {
            return .failure(error)
        }
    }
}

func fuzzDecode(_ input: UnsafeRawBufferPointer) {
    let expected = referenceDecode(Array(input))
    let maxLength = Base64.maxDecodedLength(input.count)
    switch decode(input, capacity: maxLength) {
    case .failure(let error):
        check(expected == nil, "refused valid text: \(error)")
        check(error == .invalid, "invalid text refused with \(error)")
        return
    case .success(let bytes):
        guard let expected else { fuzzFail("accepted invalid text") }
        check(bytes == expected.bytes, "decoded bytes differ from the reference")
        if bytes.count > 0 {
            // One byte short: the exact size is reported, nothing is accepted.
            guard case .failure(.bufferTooSmall(let needed)) = decode(input, capacity: bytes.count - 1) else {
                fuzzFail("a too-small buffer was not refused")
            }
            check(needed == bytes.count, "bufferTooSmall(\(needed)) for \(bytes.count) bytes")
            guard case .success(let again) = decode(input, capacity: bytes.count), again == bytes else {
                fuzzFail("exact-size buffer refused")
            }
        }
        let reencoded = bytes.withUnsafeBytes { encode($0, capacity: Base64.encodedLength(bytes.count)) }
        guard case .success(let text) = reencoded else { fuzzFail("re-encode failed") }
        if expected.canonical {
            check(text == Array(input), "canonical text does not round-trip")
        } else {
            check(referenceDecode(text)?.bytes == bytes && referenceDecode(text)?.canonical == true,
                  "non-canonical text re-encodes to other bytes")
        }
    }
}

func fuzzEncode(_ input: UnsafeRawBufferPointer) {
    let want = referenceEncode(Array(input))
    check(Base64.encodedLength(input.count) == want.count, "encodedLength")
    guard case .success(let text) = encode(input, capacity: want.count) else { fuzzFail("encode refused an exact buffer") }
    check(text == want, "encoding differs from the reference")
    if want.count > 0 {
        guard case .failure(.bufferTooSmall(let needed)) = encode(input, capacity: want.count - 1) else {
            fuzzFail("encode accepted a too-small buffer")
        }
        check(needed == want.count, "encode bufferTooSmall(\(needed))")
    }
    let back = text.withUnsafeBytes { decode($0, capacity: Base64.maxDecodedLength(text.count)) }
    guard case .success(let bytes) = back else { fuzzFail("own encoding does not decode") }
    check(bytes == Array(input), "encode then decode lost bytes")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 1)
    defer { copy.deallocate() }
    if size > 0 { copy.copyMemory(from: UnsafeRawBufferPointer(start: data, count: size)) }
    let input = UnsafeRawBufferPointer(rebasing: copy[0..<size])
    fuzzDecode(input)
    fuzzEncode(input)
    return 0
}
