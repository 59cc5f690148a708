import Testing
@testable import TinyHTTP

/// One malformed response and the error it must produce.
struct Hostile: Sendable, CustomTestStringConvertible {
    let input: String
    let error: HTTPParseError
    init(_ input: String, _ error: HTTPParseError) { self.input = input; self.error = error }
    var testDescription: String { "\(input.debugDescription) -> \(error)" }
}

private let head = "HTTP/1.1 200 OK\r\n"

private let cases: [Hostile] = [
    // Status line.
    Hostile("GARBAGE\r\n\r\n", .invalidStatusLine),
    Hostile("\r\n", .invalidStatusLine),
    Hostile("http/1.1 200 OK\r\n", .invalidStatusLine),
    Hostile("HTTP/1.1  200 OK\r\n", .invalidStatusCode),
    Hostile("HTTP/11 200 OK\r\n", .invalidStatusLine),
    Hostile("HTTP/2 200\r\n", .invalidStatusLine),
    Hostile("HTTP/2.0 200 OK\r\n", .unsupportedVersion),
    Hostile("HTTP/1.2 200 OK\r\n", .unsupportedVersion),
    Hostile("HTTP/0.9 200 OK\r\n", .unsupportedVersion),
    Hostile("HTTP/1.1 99 OK\r\n", .invalidStatusCode),
    Hostile("HTTP/1.1 099 OK\r\n", .invalidStatusCode),
    Hostile("HTTP/1.1 600 OK\r\n", .invalidStatusCode),
    Hostile("HTTP/1.1 2x0 OK\r\n", .invalidStatusCode),
    Hostile("HTTP/1.1 -20 OK\r\n", .invalidStatusCode),
    Hostile("HTTP/1.1 2000 OK\r\n", .invalidStatusCode),
    Hostile("HTTP/1.1 200OK\r\n", .invalidStatusCode),
    Hostile("HTTP/1.1 20\r\n", .invalidStatusCode),
    Hostile("HTTP/1.1 200 O\u{0}K\r\n", .invalidStatusLine),
    Hostile("HTTP/1.1 200 OK\rX", .invalidLineEnding),
    // Header lines.
    Hostile(head + "Bad Name: x\r\n", .invalidHeaderName),
    Hostile(head + "Name : x\r\n", .invalidHeaderName),
    Hostile(head + ": x\r\n", .invalidHeaderName),
    Hostile(head + "N(a)me: x\r\n", .invalidHeaderName),
    Hostile(head + "NoColon\r\n", .invalidHeaderLine),
    Hostile(head + " Leading: space\r\n", .invalidHeaderLine),
    Hostile(head + "X: a\u{0}b\r\n", .invalidHeaderValue),
    Hostile(head + "X: a\u{1}b\r\n", .invalidHeaderValue),
    Hostile(head + "X: a\u{7F}\r\n", .invalidHeaderValue),
    Hostile(head + "X: a\r\n \u{0}\r\n", .invalidHeaderValue),
    Hostile(head + "X: a\rb\r\n", .invalidLineEnding),
    Hostile(head + "X: a\r\r\n", .invalidLineEnding),
    // Content-Length.
    Hostile(head + "Content-Length: -1\r\n\r\n", .invalidContentLength),
    Hostile(head + "Content-Length: abc\r\n\r\n", .invalidContentLength),
    Hostile(head + "Content-Length:\r\n\r\n", .invalidContentLength),
    Hostile(head + "Content-Length: +5\r\n\r\n", .invalidContentLength),
    Hostile(head + "Content-Length: 1e3\r\n\r\n", .invalidContentLength),
    Hostile(head + "Content-Length: 0x10\r\n\r\n", .invalidContentLength),
    Hostile(head + "Content-Length: 1 2\r\n\r\n", .invalidContentLength),
    Hostile(head + "Content-Length: 5,\r\n\r\n", .invalidContentLength),
    Hostile(head + "Content-Length: 2147483648\r\n\r\n", .invalidContentLength),
    Hostile(head + "Content-Length: 99999999999999999999999999\r\n\r\n", .invalidContentLength),
    Hostile(head + "Content-Length: 5, 6\r\n\r\n", .conflictingContentLength),
    Hostile(head + "Content-Length: 5\r\ncontent-length: 6\r\n\r\n", .conflictingContentLength),
    // Transfer-Encoding.
    Hostile(head + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", .contentLengthWithTransferEncoding),
    Hostile(head + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", .contentLengthWithTransferEncoding),
    Hostile(head + "Transfer-Encoding: gzip\r\n\r\n", .unsupportedTransferEncoding),
    Hostile(head + "Transfer-Encoding: gzip, chunked\r\n\r\n", .unsupportedTransferEncoding),
    Hostile(head + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", .unsupportedTransferEncoding),
    Hostile(head + "Transfer-Encoding: chunkedx\r\n\r\n", .unsupportedTransferEncoding),
    // Chunks.
    Hostile(head + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", .invalidChunkSize),
    Hostile(head + "Transfer-Encoding: chunked\r\n\r\n\r\n", .invalidChunkSize),
    Hostile(head + "Transfer-Encoding: chunked\r\n\r\n-1\r\n", .invalidChunkSize),
    Hostile(head + "Transfer-Encoding: chunked\r\n\r\n 5\r\n", .invalidChunkSize),
    Hostile(head + "Transfer-Encoding: chunked\r\n\r\n;ext\r\n", .invalidChunkSize),
    Hostile(head + "Transfer-Encoding: chunked\r\n\r\n5 x\r\n", .invalidChunkSize),
    Hostile(head + "Transfer-Encoding: chunked\r\n\r\n5g\r\n", .invalidChunkSize),
    Hostile(head + "Transfer-Encoding: chunked\r\n\r\n0x5\r\n", .invalidChunkSize),
    Hostile(head + "Transfer-Encoding: chunked\r\n\r\n80000000\r\n", .invalidChunkSize),
    Hostile(head + "Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFFFFF\r\n", .invalidChunkSize),
    Hostile(head + "Transfer-Encoding: chunked\r\n\r\n5;a=\u{0}\r\n", .invalidChunkSize),
    Hostile(head + "Transfer-Encoding: chunked\r\n\r\n5\r\rhello", .invalidLineEnding),
    Hostile(head + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n", .invalidChunkTerminator),
    Hostile(head + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\rX", .invalidLineEnding),
]

@Test(arguments: cases)
func hostileInputWholeFeed(c: Hostile) {
    let f = Fixture()
    #expect(parseError { () throws(HTTPParseError) in _ = try f.feed(c.input) } == c.error)
    #expect(!f.parser.connectionReusable)
}

@Test(arguments: cases)
func hostileInputByteFeeds(c: Hostile) {
    let f = Fixture()
    #expect(parseError { () throws(HTTPParseError) in _ = try f.feed(c.input, step: 1) } == c.error)
    // The error sticks: more input keeps reporting it.
    #expect(parseError { () throws(HTTPParseError) in _ = try f.feed("HTTP/1.1 200 OK\r\n") } == c.error)
    #expect(parseError { () throws(HTTPParseError) in try f.parser.connectionClosed() } == c.error)
    #expect(parseError { () throws(HTTPParseError) in _ = try f.parser.body() } == c.error)
    #expect(f.parser.headers.count == 0)
}

@Test func statusLineTooLong() {
    let f = Fixture(maxLineLength: 32)
    let reason = String(repeating: "x", count: 19) // line of exactly 32 bytes is fine
    #expect(parseError { () throws(HTTPParseError) in
        _ = try f.feed("HTTP/1.1 200 " + reason + "\r\nContent-Length: 0\r\n\r\n") } == nil)
    let g = Fixture(maxLineLength: 32)
    #expect(parseError { () throws(HTTPParseError) in _ = try g.feed("HTTP/1.1 200 " + reason + "y") }
        == .statusLineTooLong)
    // Without any line end, a stream of garbage is stopped at the limit.
    let h = Fixture(maxLineLength: 100)
    #expect(parseError { () throws(HTTPParseError) in _ = try h.feed(String(repeating: "A", count: 10_000), step: 1) }
        == .statusLineTooLong)
}

@Test func headerLineTooLong() {
    let f = Fixture(maxLineLength: 40)
    #expect(parseError { () throws(HTTPParseError) in
        _ = try f.feed(head + "X: " + String(repeating: "v", count: 37) + "\r\nContent-Length: 0\r\n\r\n") } == nil)
    let g = Fixture(maxLineLength: 40)
    #expect(parseError { () throws(HTTPParseError) in
        _ = try g.feed(head + "X: " + String(repeating: "v", count: 38) + "\r\n") } == .headerLineTooLong)
    // Folding cannot grow a value past the limit either.
    let h = Fixture(maxLineLength: 40)
    #expect(parseError { () throws(HTTPParseError) in
        _ = try h.feed(head + "X: " + String(repeating: "v", count: 30) + "\r\n " + String(repeating: "w", count: 30)
            + "\r\n") } == .headerLineTooLong)
}

@Test func headerBlockTooLarge() {
    let f = Fixture(headerSize: 64)
    #expect(parseError { () throws(HTTPParseError) in
        _ = try f.feed(head + "A: 0123456789\r\nB: 0123456789\r\nC: 0123456789\r\nD: 0123456789\r\n\r\n") }
        == .headerBlockTooLarge)
    let tiny = Fixture(headerSize: 0)
    #expect(parseError { () throws(HTTPParseError) in _ = try tiny.feed(head) } == .headerBlockTooLarge)
}

/// An empty status line stores nothing: with a header buffer of fewer than 4 bytes it once
/// trapped (the line was sliced at offset 4 before its length was checked).
@Test(arguments: [0, 1, 2, 3, 4, 16])
func emptyStatusLineWithATinyHeaderBuffer(size: Int) {
    for line in ["\r\n", "\n"] {
        let f = Fixture(headerSize: size)
        #expect(parseError { () throws(HTTPParseError) in _ = try f.feed(line) } == .invalidStatusLine, "\(size) bytes")
    }
}

@Test func tooManyHeaders() {
    let three = head + "A: 1\r\nB: 2\r\nC: 3\r\nContent-Length: 0\r\n\r\n"
    let f = Fixture(maxHeaderCount: 4)
    #expect(parseError { () throws(HTTPParseError) in _ = try f.feed(three) } == nil)
    let g = Fixture(maxHeaderCount: 3)
    #expect(parseError { () throws(HTTPParseError) in _ = try g.feed(three) } == .tooManyHeaders)
}

@Test func tooManyTrailers() {
    let body = head + "Transfer-Encoding: chunked\r\n\r\n0\r\nT1: a\r\nT2: b\r\nT3: c\r\n\r\n"
    let f = Fixture(maxHeaderCount: 3)
    #expect(parseError { () throws(HTTPParseError) in _ = try f.feed(body) } == nil)
    #expect(f.parser.isComplete)
    let g = Fixture(maxHeaderCount: 2)
    #expect(parseError { () throws(HTTPParseError) in _ = try g.feed(body) } == .tooManyHeaders)
}

@Test func trailerLineTooLong() {
    let f = Fixture(maxLineLength: 20)
    #expect(parseError { () throws(HTTPParseError) in
        _ = try f.feed(head + "Transfer-Encoding: chunked\r\n\r\n0\r\n" + String(repeating: "t", count: 21)) }
        == .headerLineTooLong)
}

@Test func chunkLineTooLong() {
    let f = Fixture(maxLineLength: 30)
    let prefix = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    #expect(parseError { () throws(HTTPParseError) in
        _ = try f.feed(prefix + "5;" + String(repeating: "e", count: 28) + "\r\nhello\r\n0\r\n\r\n") } == nil)
    let g = Fixture(maxLineLength: 30)
    #expect(parseError { () throws(HTTPParseError) in
        _ = try g.feed(prefix + "5;" + String(repeating: "e", count: 29) + "\r\n") } == .chunkLineTooLong)
    // Endless leading zeros are bounded too.
    let h = Fixture(maxLineLength: 30)
    #expect(parseError { () throws(HTTPParseError) in
        _ = try h.feed(prefix + String(repeating: "0", count: 100)) } == .chunkLineTooLong)
}

@Test func largestChunkSizeAccepted() throws {
    let f = Fixture()
    try f.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7fffffff\r\nabc")
    #expect(!f.parser.isComplete)
    #expect(f.parser.bodyLength == 3)
}

@Test(arguments: [
    "", "HTTP/1.1 200", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nTrailer: x\r\n",
])
func closedMidResponseIsTruncated(input: String) throws {
    let f = Fixture()
    try f.feed(input)
    #expect(parseError { () throws(HTTPParseError) in try f.parser.connectionClosed() } == .truncated)
    #expect(!f.parser.connectionReusable)
}

/// Bytes beyond a response on a connection the server closes cannot be another response.
@Test func bodyLongerThanDeclaredIsReported() throws {
    let f = Fixture()
    let input = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nabEXTRA"
    let used = try f.feed(input)
    #expect(used == input.utf8.count - 5)
    #expect(f.bodyText == "ab")
    #expect(parseError { () throws(HTTPParseError) in _ = try Bytes("EXTRA").with { (b) throws(HTTPParseError) in
        try f.parser.feed(b) } } == .dataAfterEnd)
    // On a kept-alive connection the leftover is parsed as the next response and rejected.
    let g = Fixture()
    try g.feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab")
    g.parser.reset()
    #expect(parseError { () throws(HTTPParseError) in _ = try g.feed("EXTRA\r\n") } == .invalidStatusLine)
}

/// Seeded random input never traps and stays within the limits (see SeededRandom.swift to
/// replay a failure with its seed).
@Test func randomGarbageNeverTraps() throws {
    var rng = SeededRandom()
    let alphabet = Array("HTTP/1.0 2049:;\r\n\t chunkedContent-LengthTransfer-Encodingaf\u{0}".utf8)
    for _ in 0..<2000 {
        let count = Int.random(in: 0..<200, using: &rng)
        var bytes: [UInt8] = []
        if Bool.random(using: &rng) { bytes += Array("HTTP/1.1 200 OK\r\n".utf8) }
        for _ in 0..<count { bytes.append(alphabet.randomElement(using: &rng)!) }
        let f = Fixture(headerSize: 128, bodySize: 16, maxHeaderCount: 4, maxLineLength: 64)
        _ = try? f.feed(bytes, step: Int.random(in: 1...8, using: &rng))
        let input = rng.comment(String(decoding: bytes, as: UTF8.self).debugDescription)
        // `#require` ends the test at the first failing input; its seed replays it.
        try #require(f.parser.bodyPrefix.count <= 16, input)
        try #require(f.parser.headers.count <= 4, input)
    }
}
