// libFuzzer entry for SAS token building (`SASToken.write`) with arbitrary host, device,
// module, key text, key name, expiry and output size.
//
// Input layout: byte 0 flags (bit 0: a module id, bit 1: a key name), bytes 1-8 expiry
// (big-endian), bytes 9-10 output capacity (big-endian, up to 64 KB), then the fields, each a
// length byte and that many bytes: host, device, module, key, key name.
//
// Oracle, first with a roomy buffer: empty identity parts are `emptyIdentity`; a key text over
// 172 bytes is `keyTooLong`; otherwise the key must be strict Base64 (independent checker here)
// of 1...128 bytes, else `invalidKey` / `keyTooLong`. A token must be exactly
// `SharedAccessSignature sr=<enc host>%2Fdevices%2F<enc device>[%2Fmodules%2F<enc module>]
// &sig=<enc 44-char Base64>&se=<expiry>[&skn=<key name>]` with RFC 3986 percent-encoding
// written here. Then with the fuzzed capacity: the same token when it fits, else
// `bufferTooSmall(needed:)` with capacity < needed <= token length (the same error otherwise).
import TinyHub
import TinyTLS

@inline(never)
func fuzzFail(_ message: String, line: UInt = #line) -> Never {
    fatalError("fuzz oracle: \(message)", line: line)
}

func check(_ condition: Bool, _ message: @autoclosure () -> String, line: UInt = #line) {
    if !condition { fuzzFail(message(), line: line) }
}

struct Cursor {
    let data: UnsafeRawBufferPointer
    var position = 0
    mutating func byte() -> UInt8 {
        guard position < data.count else { return 0 }
        defer { position += 1 }
        return data[position]
    }
    mutating func field() -> [UInt8] {
        let n = min(Int(byte()), data.count - position)
        defer { position += n }
        return Array(data[position..<(position + n)])
    }
}

func referenceBase64Length(_ text: [UInt8]) -> Int? {
    guard text.count % 4 == 0 else { return nil }
    var padding = 0
    for (i, c) in text.enumerated() {
        let alphabet = (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2B || c == 0x2F
        if c == 0x3D {
            padding += 1
            guard i >= text.count - 2 else { return nil }
        } else {
            guard alphabet, padding == 0 else { return nil }
        }
    }
    return text.count / 4 * 3 - padding
}

func percentEncode(_ bytes: [UInt8]) -> [UInt8] {
    let hex = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    for b in bytes {
        let unreserved = (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
            || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E
        if unreserved { out.append(b) } else { out += [0x25, hex[Int(b >> 4)], hex[Int(b & 15)]] }
    }
    return out
}

func bytesOf(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Calls `SASToken.write` into an exact-size heap buffer of `capacity` bytes.
func write(host: [UInt8], device: [UInt8], module: [UInt8]?, key: [UInt8], keyName: [UInt8]?, expiry: UInt64,
           capacity: Int) -> Result<[UInt8], SASTokenError> {
    let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(capacity, 1), alignment: 1)
    defer { storage.deallocate() }
    let out = UnsafeMutableRawBufferPointer(rebasing: storage[0..<capacity])
    // Each field in its own exact-size allocation as well.
    func raw(_ bytes: [UInt8]) -> UnsafeRawBufferPointer {
        let p = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        p.copyBytes(from: bytes)
        return UnsafeRawBufferPointer(rebasing: p[0..<bytes.count])
    }
    let h = raw(host), d = raw(device), k = raw(key)
    let m = module.map(raw), n = keyName.map(raw)
    defer {
        for p in [h, d, k, m, n] { if let p { UnsafeMutableRawPointer(mutating: p.baseAddress!).deallocate() } }
    }
    do throws(SASTokenError) {
        let length = try SASToken.write(host: h, deviceID: d, moduleID: m, key: k, keyName: n, expiry: expiry, crypto: MbedTLSCrypto(), into: out)
        check(length >= 0 && length <= capacity, "token length \(length) outside the buffer")
        return .success(Array(UnsafeRawBufferPointer(rebasing: out[0..<length])))
    } catch {
        return .failure(error)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var cursor = Cursor(data: UnsafeRawBufferPointer(start: data, count: size))
    let flags = cursor.byte()
    var expiry: UInt64 = 0
    for _ in 0..<8 { expiry = expiry << 8 | UInt64(cursor.byte()) }
    let capacity = Int(cursor.byte()) << 8 | Int(cursor.byte())
    let host = cursor.field(), device = cursor.field()
    let moduleBytes = cursor.field(), key = cursor.field(), keyNameBytes = cursor.field()
    let module = flags & 1 != 0 ? moduleBytes : nil
    let keyName = flags & 2 != 0 ? keyNameBytes : nil

    let expected: Result<Int, SASTokenError>  // the decoded key length, or the error
    if host.isEmpty || device.isEmpty || module?.isEmpty == true {
        expected = .failure(.emptyIdentity)
    } else if key.count > 172 {
        expected = .failure(.keyTooLong)
    } else if let length = referenceBase64Length(key), length > 0 {
        expected = length <= 128 ? .success(length) : .failure(.keyTooLong)
    } else {
        expected = .failure(.invalidKey)
    }

    let roomy = 4 * 256 * 3 + 200
    let result = write(host: host, device: device, module: module, key: key, keyName: keyName, expiry: expiry, capacity: roomy)
    let token: [UInt8]
    switch (result, expected) {
    case (.failure(let error), .failure(let want)):
        check(error == want, "failed with \(error), expected \(want)")
    case (.failure(let error), .success):
        fuzzFail("failed with \(error) for a valid key and identity")
    case (.success, .failure(let want)):
        fuzzFail("wrote a token, expected \(want)")
    case (.success(let t), .success):
        token = t
        var resource = percentEncode(host) + bytesOf("%2Fdevices%2F") + percentEncode(device)
        if let module { resource += bytesOf("%2Fmodules%2F") + percentEncode(module) }
        let head = bytesOf("SharedAccessSignature sr=") + resource + bytesOf("&sig=")
        var tail = bytesOf("&se=") + bytesOf(String(expiry))
        if let keyName { tail += bytesOf("&skn=") + keyName }
        check(token.count > head.count + tail.count && Array(token[0..<head.count]) == head, "token head")
        check(Array(token[(token.count - tail.count)...]) == tail, "token tail (expiry, key name)")
        // The signature: percent-encoded Base64 of a 32-byte MAC (44 characters, one `=`).
        let signature = Array(token[head.count..<(token.count - tail.count)])
        var decoded: [UInt8] = []
        var i = 0
        while i < signature.count {
            if signature[i] == 0x25 {
                check(i + 2 < signature.count, "truncated escape in the signature")
                decoded.append(UInt8(String(decoding: signature[(i + 1)...(i + 2)], as: UTF8.self), radix: 16)!)
                i += 3
            } else {
                decoded.append(signature[i])
                i += 1
            }
        }
        check(decoded.count == 44 && referenceBase64Length(decoded) == 32, "signature is not Base64 of 32 bytes")
        check(percentEncode(decoded) == signature, "signature not percent-encoded")
        // The fuzzed capacity: the same token, or a bounded bufferTooSmall.
        let small = write(host: host, device: device, module: module, key: key, keyName: keyName, expiry: expiry, capacity: capacity)
        switch small {
        case .success(let again):
            check(capacity >= token.count && again == token, "token differs with another buffer size")
        case .failure(.bufferTooSmall(let needed)):
            check(capacity < token.count && needed > capacity && needed <= token.count,
                  "bufferTooSmall(\(needed)) with capacity \(capacity), token \(token.count)")
        case .failure(let error):
            fuzzFail("capacity \(capacity): \(error)")
        }
        return 0
    }
    // An error case: any buffer gives the same error, or bufferTooSmall when the resource
    // and expiry (written before the key is read) do not fit.
    let small = write(host: host, device: device, module: module, key: key, keyName: keyName, expiry: expiry, capacity: capacity)
    guard case .failure(let error) = small, case .failure(let want) = result else {
        fuzzFail("a small buffer succeeded where a roomy one failed")
    }
    let checkedFirst = want == .emptyIdentity || key.count > 172 // before anything is written
    if case .bufferTooSmall(let needed) = error, !checkedFirst {
        check(needed > capacity, "bufferTooSmall(\(needed)) with capacity \(capacity)")
    } else {
        check(error == want, "capacity \(capacity): \(error), roomy: \(want)")
    }
    return 0
}
