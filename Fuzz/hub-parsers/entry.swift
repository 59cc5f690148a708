// libFuzzer entry for the hub's pure parsers: JSON reader (tokenizer, unescape, integers,
// pointer lookup), property-bag reader, percent decoding and topic classification. Built by
// scripts/fuzz.sh from the files listed in sources.txt (pure Swift, no mbedTLS, TinyBytes as a module):
//   FUZZ_TARGETS=hub-parsers FUZZ_SECONDS=30 scripts/fuzz.sh

import TinyBytes

/// Runs every parser over one input; any trap or sanitizer report is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    withUnsafeTemporaryAllocation(byteCount: 256, alignment: 1) { scratch in
        fuzzJSON(input, scratch: scratch)
        fuzzPropertyBag(input, scratch: scratch)
        _ = try? HubTopics.classify(input)
        _ = try? PercentEncoding.decode(input, into: scratch)
    }
    return 0
}

func fuzzJSON(_ input: UnsafeRawBufferPointer, scratch: UnsafeMutableRawBufferPointer) {
    guard var reader = try? JSONReader(input, maxDepth: 16) else { return }
    var steps = 0
    while steps < 100_000 {
        steps += 1
        guard let token = try? reader.next() else { break }
        switch token.kind {
        case .key, .string:
            _ = try? reader.unescape(token, into: scratch)
            _ = try? reader.keyEquals(token, UnsafeRawBufferPointer(rebasing: scratch[0..<3]))
        case .number:
            _ = try? reader.integer(token)
        default:
            break
        }
    }
    _ = try? JSONPointer.integer("/desired/$version", in: input)
    _ = try? JSONPointer.find("/a/1/b~1c", in: input)
    // Walk top-level members the way the twin code will.
    if var members = try? JSONReader(input), let first = try? members.next(), first.kind == .objectStart {
        while true {
            guard let member = try? members.nextMember() else { break }
            if (try? members.skip(member.value)) == nil { break }
        }
    }
}

func fuzzPropertyBag(_ input: UnsafeRawBufferPointer, scratch: UnsafeMutableRawBufferPointer) {
    var reader = PropertyBagReader(input)
    var count = 0
    while count < 10_000, let property = try? reader.next(scratch: scratch) {
        _ = property.isSystemProperty
        count += 1
    }
    _ = try? PropertyBagReader.find(SystemProperty.messageID, in: input, scratch: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<16]))
}
