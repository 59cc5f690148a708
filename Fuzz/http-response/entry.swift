// libFuzzer entry for the TinyHTTP response parser (non-embedded build):
//   swiftc -sanitize=fuzzer,address -parse-as-library -module-name FuzzHTTP \
//     Sources/TinyHTTP/*.swift Fuzz/http-response/entry.swift -o /tmp/fuzz-http
//
// The first input byte picks the limits and the HEAD flag; the rest is a stream of
// responses. The stream is parsed with one feed, then with 1-, 2- and n-byte feeds, and
// all runs must agree (pipelined responses included). Buffers are allocated exactly to
// size so AddressSanitizer catches any out-of-bounds access.

/// What a run saw: per response its status and body length, then how the stream ended.
private struct Outcome: Equatable {
    var values: [Int] = []
    var errors: [HTTPParseError] = []
}

private struct Limits {
    let headerSize, bodySize, maxHeaderCount, maxLineLength: Int
    let head: Bool

    init(_ control: UInt8) {
        maxLineLength = 16 + Int(control & 0x3) * 40            // 16, 56, 96, 136
        head = control & 0x4 != 0
        headerSize = 32 << Int((control >> 3) & 0x3)             // 32 ... 256
        bodySize = [0, 4, 16, 64][Int((control >> 5) & 0x3)]
        maxHeaderCount = control & 0x80 != 0 ? 32 : 4
    }
}

private func run(_ input: UnsafeRawBufferPointer, step: Int, limits: Limits,
                 headerBuffer: UnsafeMutableRawBufferPointer, bodyBuffer: UnsafeMutableRawBufferPointer) -> Outcome {
    var outcome = Outcome()
    var parser = HTTPResponseParser(headerBuffer: headerBuffer, bodyBuffer: bodyBuffer,
                                    maxHeaderCount: limits.maxHeaderCount, maxLineLength: limits.maxLineLength)
    parser.reset(headRequest: limits.head)
    var offset = 0
    var responses = 0
    while offset < input.count, responses < 16 {
        let piece = min(input.count - offset, step)
        do throws(HTTPParseError) {
            let used = try parser.feed(UnsafeRawBufferPointer(rebasing: input[offset..<(offset + piece)]))
            precondition(used >= 0 && used <= piece)
            precondition(used == piece || parser.isComplete, "parser stopped early without completing")
            offset += used
            if parser.isComplete {
                check(parser, bodyCapacity: bodyBuffer.count)
                outcome.values.append(parser.statusCode)
                outcome.values.append(parser.bodyLength)
                responses += 1
                parser.reset(headRequest: limits.head)
            }
        } catch {
            outcome.errors.append(error)
            return outcome
        }
    }
    do throws(HTTPParseError) {
        try parser.connectionClosed()
        outcome.values.append(parser.bodyLength)
    } catch {
        outcome.errors.append(error)
    }
    return outcome
}

/// Consistency checks on a completed response; reads every byte the accessors expose.
private func check(_ parser: HTTPResponseParser, bodyCapacity: Int) {
    precondition((100...599).contains(parser.statusCode))
    precondition(parser.bodyPrefix.count <= bodyCapacity)
    var sum = 0
    for header in parser.headers {
        precondition(!header.name.isEmpty)
        for b in header.name { sum &+= Int(b) }
        for b in header.value {
            precondition(b != 0x0D && b != 0x0A && b != 0)
            sum &+= Int(b)
        }
    }
    for b in parser.reasonPhrase { sum &+= Int(b) }
    if let etag = parser.etagUnquoted { for b in etag { sum &+= Int(b) } }
    if let seconds = parser.retryAfterSeconds { precondition(seconds >= 0) }
    do throws(HTTPParseError) {
        let body = try parser.body()
        precondition(body.count == parser.bodyLength)
    } catch {
        precondition(error == .bodyTooLarge(totalBytes: parser.bodyLength) && parser.bodyLength > bodyCapacity)
    }
    blackHole(sum)
}

@inline(never) private func blackHole(_ value: Int) { _ = value }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let limits = Limits(data[0])
    let input = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    let headerBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: limits.headerSize, alignment: 1)
    let bodyBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: limits.bodySize, alignment: 1)
    defer {
        headerBuffer.deallocate()
        bodyBuffer.deallocate()
    }
    let whole = run(input, step: Int.max, limits: limits, headerBuffer: headerBuffer, bodyBuffer: bodyBuffer)
    for step in [1, 2, 3 + size % 7] {
        let split = run(input, step: step, limits: limits, headerBuffer: headerBuffer, bodyBuffer: bodyBuffer)
        precondition(split == whole, "split feeds disagree with a single feed")
    }
    return 0
}
