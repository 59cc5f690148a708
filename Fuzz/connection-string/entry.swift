// libFuzzer entry for connection strings (`ConnectionString.parse`) and the identity copy the
// hub clients keep (`HubCredentials`: copy, parse, mint a SAS token into the rest of the buffer).
//
// The whole input is the connection string. Oracle: an independent reference parser written
// here from the documented rules (split at `;`, key and value at the first `=`, empty segments
// skipped, known keys case-sensitive, duplicates / empty values / `SharedAccessSignature`
// refused, HostName present (no dot needed: localhost, gateway names), DeviceId required, `x509` exactly `true` and not mixed
// with a key, the key strict Base64 of 1...128 bytes). Accepted strings must give exactly the
// reference's fields as slices of the input; refused ones exactly the reference's error.
@testable import TinyHub
import TinyTLS

@inline(never)
func fuzzFail(_ message: String, line: UInt = #line) -> Never {
    fatalError("fuzz oracle: \(message)", line: line)
}

func check(_ condition: Bool, _ message: @autoclosure () -> String, line: UInt = #line) {
    if !condition { fuzzFail(message(), line: line) }
}

// MARK: - Reference

/// Decoded length of strict Base64 text (RFC 4648 §4, padding required), or nil when invalid.
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

struct Reference {
    var fields: [ConnectionStringKey: Range<Int>] = [:]
    var unknownCount = 0
    var firstUnknown: Range<Int>? = nil
}

func bytesEqual(_ a: ArraySlice<UInt8>, _ b: String) -> Bool { Array(a) == Array(b.utf8) }

func referenceParse(_ text: [UInt8]) -> Result<Reference, ConnectionStringError> {
    guard text.count <= 4096 else { return .failure(.tooLong(maxLength: 4096)) }
    var ref = Reference()
    var sawSegment = false
    var start = 0
    while start < text.count {
        var end = start
        while end < text.count, text[end] != 0x3B { end += 1 }
        defer { start = end + 1 }
        if end == start { continue }
        sawSegment = true
        var equals = start
        while equals < end, text[equals] != 0x3D { equals += 1 }
        if equals == end { return .failure(.missingEquals(offset: start)) }
        if equals == start { return .failure(.emptyKey(offset: start)) }
        let name = text[start..<equals]
        let key: ConnectionStringKey
        switch true {
        case bytesEqual(name, "HostName"): key = .hostName
        case bytesEqual(name, "DeviceId"): key = .deviceID
        case bytesEqual(name, "ModuleId"): key = .moduleID
        case bytesEqual(name, "SharedAccessKey"): key = .sharedAccessKey
        case bytesEqual(name, "SharedAccessKeyName"): key = .sharedAccessKeyName
        case bytesEqual(name, "x509"): key = .x509
        case bytesEqual(name, "GatewayHostName"): key = .gatewayHostName
        case bytesEqual(name, "SharedAccessSignature"): return .failure(.sharedAccessSignatureNotSupported)
        default:
            ref.unknownCount += 1
            if ref.firstUnknown == nil { ref.firstUnknown = start..<equals }
            continue
        }
        if ref.fields[key] != nil { return .failure(.duplicateKey(key)) }
        if key != .x509, equals + 1 == end { return .failure(.emptyValue(key)) }
        ref.fields[key] = (equals + 1)..<end
    }
    guard sawSegment else { return .failure(.empty) }
    guard ref.fields[.hostName] != nil else { return .failure(.missingHostName) }
    guard ref.fields[.deviceID] != nil else { return .failure(.missingDeviceID) }
    if let x509 = ref.fields[.x509] {
        guard bytesEqual(text[x509], "true") else { return .failure(.invalidX509Value) }
        guard ref.fields[.sharedAccessKey] == nil else { return .failure(.mixedAuthentication) }
    } else {
        guard let key = ref.fields[.sharedAccessKey] else { return .failure(.missingCredentials) }
        guard key.count <= 172 else { return .failure(.sharedAccessKeyTooLong) }
        guard let length = referenceBase64Length(Array(text[key])), length > 0 else { return .failure(.invalidSharedAccessKey) }
        guard length <= 128 else { return .failure(.sharedAccessKeyTooLong) }
    }
    return .success(ref)
}

// MARK: - Checks

/// `slice` must be exactly `range` of the memory starting at `base`.
func checkSlice(_ slice: UnsafeRawBufferPointer?, _ range: Range<Int>?, base: UnsafeRawPointer, _ what: String) {
    switch (slice, range) {
    case (nil, nil): return
    case let (slice?, range?):
        check(slice.count == range.count, "\(what): length \(slice.count), reference \(range.count)")
        if slice.count > 0 {
            check(slice.baseAddress! - base == range.lowerBound, "\(what): not the reference's bytes")
        }
    default: fuzzFail("\(what): present \(slice != nil), reference \(range != nil)")
    }
}

func checkParsed(_ parsed: ConnectionString, _ ref: Reference, base: UnsafeRawPointer, count: Int) {
    checkSlice(parsed.hostName, ref.fields[.hostName], base: base, "HostName")
    checkSlice(parsed.deviceID, ref.fields[.deviceID], base: base, "DeviceId")
    checkSlice(parsed.moduleID, ref.fields[.moduleID], base: base, "ModuleId")
    checkSlice(parsed.sharedAccessKey, ref.fields[.sharedAccessKey], base: base, "SharedAccessKey")
    checkSlice(parsed.sharedAccessKeyName, ref.fields[.sharedAccessKeyName], base: base, "SharedAccessKeyName")
    checkSlice(parsed.gatewayHostName, ref.fields[.gatewayHostName], base: base, "GatewayHostName")
    checkSlice(parsed.firstUnknownKey, ref.firstUnknown, base: base, "first unknown key")
    check(parsed.unknownKeyCount == ref.unknownCount, "unknown key count")
    check(parsed.usesX509 == (ref.fields[.x509] != nil), "x509 flag")
    check(parsed.usesX509 == (parsed.sharedAccessKey == nil), "exactly one credential")
    check(parsed.hostName.count > 0 && parsed.deviceID.count > 0, "host or device too short")
    let connect = parsed.connectHostName
    check(connect.count > 0 && connect.baseAddress! >= base && connect.baseAddress! + connect.count <= base + count,
          "connect host outside the input")
}

/// The identity copy: parse inside the caller's buffer, then a token after it.
func fuzzCredentials(_ input: UnsafeRawBufferPointer, expected: Result<Reference, ConnectionStringError>) {
    var mix: UInt64 = 0xcbf29ce484222325
    for byte in input { mix = (mix ^ UInt64(byte)) &* 0x100000001b3 }
    let storageSize = input.count + Int(mix % 512)
    let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, storageSize), alignment: 1)
    defer { storage.deallocate() }
    let buffer = UnsafeMutableRawBufferPointer(rebasing: storage[0..<storageSize])
    var credentials: HubCredentials
    do throws(HubCredentialsError) {
        credentials = try HubCredentials(copying: input, into: buffer, crypto: MbedTLSCrypto())
    } catch {
        switch error {
        case .bufferTooSmall(let needed):
            check(input.count >= storageSize && needed > input.count, "bufferTooSmall although the copy fits")
        case .connectionString(let reason):
            guard case .failure(let want) = expected else { fuzzFail("credentials refused a valid string") }
            check(reason == want, "credentials: \(reason), parse: \(want)")
        case .sasToken:
            fuzzFail("init minted a token")
        }
        return
    }
    guard case .success(let ref) = expected else { fuzzFail("credentials accepted an invalid string") }
    check(input.count < storageSize, "credentials accepted a string its buffer cannot hold")
    checkParsed(credentials.connection, ref, base: UnsafeRawPointer(buffer.baseAddress!), count: input.count)
    check(credentials.token.count == 0 && credentials.used == input.count, "fresh credentials state")
    guard !credentials.connection.usesX509 else { return }
    // Wall clock in a plausible range (0 ... about year 36,800) and any lifetime.
    let now = Int64((mix >> 9) & ((1 << 40) - 1))
    let lifetime = UInt32(truncatingIfNeeded: mix >> 20)
    let percent = UInt32(truncatingIfNeeded: mix >> 52) % 128
    do throws(HubCredentialsError) {
        try credentials.renew(now: now, lifetime: lifetime, renewPercent: percent)
    } catch {
        switch error {
        case .bufferTooSmall(let needed):
            check(needed > storageSize, "token bufferTooSmall(\(needed)) with \(storageSize) bytes")
        default:
            fuzzFail("renew failed for a valid string: \(error)")
        }
        return
    }
    let token = credentials.token
    check(token.count > 0 && token.baseAddress! >= buffer.baseAddress! + input.count
          && token.baseAddress! + token.count <= buffer.baseAddress! + storageSize, "token outside the free space")
    let prefix = Array("SharedAccessSignature sr=".utf8)
    check(token.count > prefix.count && Array(token[0..<prefix.count]) == prefix, "token prefix")
    check(credentials.expiry == now + Int64(max(lifetime, 5)), "expiry")
    check(credentials.needsRenewal(now: credentials.expiry), "a token is not renewed at its expiry")
    // The copy is intact: the parsed fields still read the caller's bytes.
    check(Array(UnsafeRawBufferPointer(rebasing: buffer[0..<input.count])) == Array(input), "connection string copy changed")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // An exact-size copy, so AddressSanitizer sees any read past the end.
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 1)
    defer { copy.deallocate() }
    let input = UnsafeRawBufferPointer(rebasing: copy[0..<size])
    if size > 0 { copy.copyMemory(from: UnsafeRawBufferPointer(start: data, count: size)) }
    let expected = referenceParse(Array(input))
    do throws(ConnectionStringError) {
        let parsed = try ConnectionString.parse(input)
        guard case .success(let ref) = expected else { fuzzFail("accepted; reference: \(expected)") }
        checkParsed(parsed, ref, base: UnsafeRawPointer(copy.baseAddress!), count: size)
    } catch {
        guard case .failure(let want) = expected else { fuzzFail("refused with \(error); reference accepts") }
        check(error == want, "refused with \(error); reference: \(want)")
    }
    fuzzCredentials(input, expected: expected)
    return 0
}
