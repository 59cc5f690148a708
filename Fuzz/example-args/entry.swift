// libFuzzer entry for the pure pieces of the examples' argument parsing (the rest reads argv
// and exits on a usage error, which a fuzzer cannot drive): `DecimalParser.parse` (numbers of
// `--count`, `--qos`, ports, `IOTHUB_SAS_TTL_S`...), whole-word `--transport` matching
// (`textEquals`, `ExampleTransport.parse`) and `--property k=v` splitting (`PropertyStorage`).
//
// Input: bytes 0-7 a limit (big-endian), then up to four texts separated by NUL bytes (argv
// strings cannot hold NUL). Oracles written here: a digit-string comparison for the decimal
// value and its limit; byte equality for the transport words; split at the first `=`.
import HubExampleSupport
import TinyHub
import TinyPlatform

@inline(never)
func fuzzFail(_ message: String, line: UInt = #line) -> Never {
    fatalError("fuzz oracle: \(message)", line: line)
}

func check(_ condition: Bool, _ message: @autoclosure () -> String, line: UInt = #line) {
    if !condition { fuzzFail(message(), line: line) }
}

/// Reference: the value of an all-digit text if it is <= limit, compared as digit strings.
func referenceDecimal(_ text: [UInt8], limit: UInt64) -> UInt64? {
    guard !text.isEmpty, text.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
    var digits = Array(text.drop(while: { $0 == 0x30 }))
    let bound = Array(String(limit).utf8)
    if digits.count > bound.count { return nil }
    if digits.count == bound.count, digits.lexicographicallyPrecedes(bound) == false, digits != bound { return nil }
    if digits.isEmpty { digits = [0x30] }
    return UInt64(String(decoding: digits, as: UTF8.self))
}

let usage: StaticString = "usage: fuzz"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeRawBufferPointer(start: data, count: size))
    var limit: UInt64 = 0
    for byte in input.prefix(8) { limit = limit << 8 | UInt64(byte) }
    let texts = input.dropFirst(8).split(separator: 0, maxSplits: 3, omittingEmptySubsequences: false)
        .map { String(decoding: $0, as: UTF8.self) }
    for text in texts {
        let utf8 = Array(text.utf8)
        let value = DecimalParser.parse(text, limit: limit)
        check(value == referenceDecimal(utf8, limit: limit), "DecimalParser(\(utf8), \(limit)) = \(String(describing: value))")
        check(DecimalParser.parse(text) == referenceDecimal(utf8, limit: UInt64(Int64.max)), "DecimalParser default limit")

        let isHTTPS = utf8 == Array("https".utf8), isMQTT = utf8 == Array("mqtt".utf8)
        check(textEquals(text, "https") == isHTTPS && textEquals(text, "mqtt") == isMQTT, "textEquals")
        if isHTTPS || isMQTT { // anything else exits with the usage line
            check(ExampleTransport.parse(text, usage: usage) == (isHTTPS ? .https : .mqtt), "ExampleTransport.parse")
        }
    }
    // `--property k=v`: only texts with a non-empty name (the others exit with a usage line).
    let pairs = texts.filter { text in
        guard let equals = text.utf8.firstIndex(of: 0x3D) else { return false }
        return equals != text.utf8.startIndex
    }
    let storage = PropertyStorage(pairs, flag: "--property", usage: usage)
    let list = storage.list
    check(list.count == pairs.count, "property count")
    for (property, text) in zip(list, pairs) {
        let utf8 = Array(text.utf8)
        let equals = utf8.firstIndex(of: 0x3D)!
        check(Array(property.name) == Array(utf8[..<equals]), "property name")
        check(Array(property.value) == Array(utf8[(equals + 1)...]), "property value")
    }
    return 0
}
