import Testing
@testable import TinyHTTP

private let ok = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
    + "ETag: \"lock-token-1\"\r\niothub-app-Temp: 21.5\r\niothub-messageid: m1\r\n\r\n{\"a\":\"xyz\"}"

@Test(arguments: [1, 2, 3, 7, 64, Int.max])
func contentLengthResponse(step: Int) throws {
    let f = Fixture()
    let used = try f.feed(ok, step: step)
    #expect(used == ok.utf8.count)
    #expect(f.parser.isComplete)
    #expect(f.parser.statusCode == 200)
    #expect(text(f.parser.reasonPhrase) == "OK")
    #expect(f.parser.minorVersion == 1)
    #expect(f.parser.contentLength == 11)
    #expect(!f.parser.isChunked)
    #expect(f.bodyText == "{\"a\":\"xyz\"}")
    #expect(f.parser.connectionReusable)
    #expect(f.parser.headers.count == 5)
    #expect(f.header("content-type") == "application/json")
    #expect(f.header("CONTENT-TYPE") == "application/json")
    #expect(f.header("X-Missing") == nil)
    #expect(f.parser.etag.map(text) == "\"lock-token-1\"")
    #expect(f.parser.etagUnquoted.map(text) == "lock-token-1")
}

@Test func headerIterationKeepsOrderAndCase() throws {
    let f = Fixture()
    try f.feed(ok)
    var names: [String] = [], values: [String] = []
    for h in f.parser.headers {
        names.append(text(h.name))
        values.append(text(h.value))
    }
    #expect(names == ["Content-Type", "Content-Length", "ETag", "iothub-app-Temp", "iothub-messageid"])
    #expect(values == ["application/json", "11", "\"lock-token-1\"", "21.5", "m1"])
    let app = f.parser.headers.filter { $0.nameHasPrefix("IOTHUB-APP-") }.map { text($0.value) }
    #expect(app == ["21.5"])
    let name = Bytes("IoTHub-MessageId")
    #expect(name.with { f.parser.header(named: $0) }.map(text) == "m1")
}

@Test func headersNotVisibleBeforeComplete() throws {
    let f = Fixture()
    try f.feed("HTTP/1.1 200 OK\r\nA: b\r\n")
    #expect(f.parser.statusCode == 200)
    #expect(!f.parser.headersComplete)
    #expect(f.parser.headers.count == 0)
    #expect(parseError { () throws(HTTPParseError) in _ = try f.parser.body() } == .incomplete)
    try f.feed("Content-Length: 2\r\n\r\nh")
    #expect(f.parser.headersComplete && !f.parser.isComplete)
    #expect(f.header("a") == "b")
    try f.feed("i")
    #expect(f.bodyText == "hi")
}

@Test func noContentHasNoBody() throws {
    let f = Fixture()
    let first = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
    let input = first + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
    let used = try f.feed(input)
    #expect(used == first.utf8.count)
    #expect(f.parser.statusCode == 204)
    #expect(f.bodyText == "")
    #expect(f.parser.connectionReusable)
    f.parser.reset()
    try f.feed(Array(Array(input.utf8)[used...]))
    #expect(f.parser.statusCode == 200)
    #expect(f.bodyText == "hi")
}

@Test func notModifiedIgnoresContentLength() throws {
    let f = Fixture()
    let input = "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n"
    #expect(try f.feed(input) == input.utf8.count)
    #expect(f.parser.isComplete && f.bodyText == "")
}

@Test func interimResponseThenFinal() throws {
    let f = Fixture()
    let interim = "HTTP/1.1 100 Continue\r\n\r\n"
    let input = interim + "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx"
    let used = try f.feed(input)
    #expect(used == interim.utf8.count)
    #expect(f.parser.isInterim && f.parser.isComplete)
    f.parser.reset()
    try f.feed(Array(Array(input.utf8)[used...]), step: 1)
    #expect(f.parser.statusCode == 201 && !f.parser.isInterim)
    #expect(f.bodyText == "x")
}

@Test func headResponseHasNoBody() throws {
    let f = Fixture()
    f.parser.reset(headRequest: true)
    let head = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
    #expect(try f.feed(head + "HTTP/1.1 200 OK\r\n") == head.utf8.count)
    #expect(f.parser.isComplete && f.bodyText == "")
    #expect(f.parser.contentLength == 100)
    #expect(f.parser.connectionReusable)
    // Without the HEAD hint the same bytes wait for 100 body bytes.
    f.parser.reset()
    try f.feed(head)
    #expect(!f.parser.isComplete)
}

@Test(arguments: [
    ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true),
    ("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false),
    ("HTTP/1.1 200 OK\r\nconnection: Keep-Alive, CLOSE\r\nContent-Length: 0\r\n\r\n", false),
    ("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", true),
    ("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false),
    ("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", true),
    ("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false),
    ("HTTP/1.1 200 OK\r\nConnection: upgrade, closed\r\nContent-Length: 0\r\n\r\n", true),
])
func connectionReuse(input: String, reusable: Bool) throws {
    let f = Fixture()
    try f.feed(input)
    #expect(f.parser.isComplete)
    #expect(f.parser.connectionReusable == reusable)
}

@Test func http10Response() throws {
    let f = Fixture()
    try f.feed("HTTP/1.0 404 Not Found\r\nContent-Length: 3\r\n\r\nnope", step: 1)
    #expect(f.parser.minorVersion == 0)
    #expect(f.parser.statusCode == 404)
    #expect(text(f.parser.reasonPhrase) == "Not Found")
    #expect(f.bodyText == "nop")
}

@Test func oddWhitespaceAndEmptyValues() throws {
    let f = Fixture()
    try f.feed("HTTP/1.1 200 \r\nContent-Length: \t 2 \t\r\nX-A:\tv  a l\t\r\nX-Empty:\r\nX-Spaces:    \r\n\r\nok")
    #expect(text(f.parser.reasonPhrase) == "")
    #expect(f.parser.contentLength == 2)
    #expect(f.header("x-a") == "v  a l")
    #expect(f.header("x-empty") == "")
    #expect(f.header("x-spaces") == "")
    #expect(f.bodyText == "ok")
}

@Test func statusLineWithoutReason() throws {
    let f = Fixture()
    try f.feed("HTTP/1.1 503\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n")
    #expect(f.parser.statusCode == 503)
    #expect(f.parser.reasonPhrase.count == 0)
    #expect(f.parser.retryAfterSeconds == 120)
}

@Test(arguments: [
    ("Retry-After: 0", 0), ("Retry-After: 30", 30), ("retry-after:  7 ", 7),
    ("Retry-After: 99999999999999999999", 0x7FFF_FFFF),
    ("Retry-After: Fri, 31 Dec 1999 23:59:59 GMT", nil), ("Retry-After:", nil), ("X: 1", nil),
] as [(String, Int?)])
func retryAfter(line: String, seconds: Int?) throws {
    let f = Fixture()
    try f.feed("HTTP/1.1 429 Too Many Requests\r\n" + line + "\r\nContent-Length: 0\r\n\r\n")
    #expect(f.parser.retryAfterSeconds == seconds)
}

@Test(arguments: [
    ("ETag: \"abc\"", "\"abc\"", "abc"), ("ETag: W/\"abc\"", "W/\"abc\"", "abc"),
    ("etag: abc", "abc", "abc"), ("ETag: \"\"", "\"\"", ""), ("ETag: \"", "\"", "\""),
])
func etags(line: String, raw: String, unquoted: String) throws {
    let f = Fixture()
    try f.feed("HTTP/1.1 200 OK\r\n" + line + "\r\nContent-Length: 0\r\n\r\n")
    #expect(f.parser.etag.map(text) == raw)
    #expect(f.parser.etagUnquoted.map(text) == unquoted)
}

@Test func bareLineFeedsAccepted() throws {
    let f = Fixture()
    try f.feed("HTTP/1.1 200 OK\nA: b\nContent-Length: 1\n\nz")
    #expect(f.header("A") == "b")
    #expect(f.bodyText == "z")
}

@Test(arguments: [1, Int.max])
func obsoleteFoldingIsJoined(step: Int) throws {
    let f = Fixture()
    try f.feed("HTTP/1.1 200 OK\r\nX-Long: one\r\n  two\r\n\tthree  \r\n \r\nY: y\r\nContent-Length: 0\r\n\r\n", step: step)
    #expect(f.header("x-long") == "one two three")
    #expect(f.header("y") == "y")
    #expect(f.parser.headers.count == 3)
    let g = Fixture()
    try g.feed("HTTP/1.1 200 OK\r\nX-Empty:\r\n folded\r\nContent-Length: 0\r\n\r\n")
    #expect(g.header("x-empty") == "folded")
}

@Test func duplicateIdenticalContentLengthAccepted() throws {
    let f = Fixture()
    try f.feed("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc")
    #expect(f.bodyText == "abc")
    let g = Fixture()
    try g.feed("HTTP/1.1 200 OK\r\nContent-Length: 3, 003\r\n\r\nabc")
    #expect(g.bodyText == "abc")
}

@Test func bodyUntilClose() throws {
    let f = Fixture()
    try f.feed("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome ", step: 3)
    try f.feed("text")
    #expect(!f.parser.isComplete)
    try f.parser.connectionClosed()
    #expect(f.parser.isComplete)
    #expect(f.bodyText == "some text")
    #expect(!f.parser.connectionReusable)
    try f.parser.connectionClosed() // idempotent once complete
}

@Test func bodyTooLargeIsDrainedThenPipelinedResponseParses() throws {
    let f = Fixture(bodySize: 4)
    let first = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"
    let second = "HTTP/1.1 202 Accepted\r\nContent-Length: 3\r\n\r\nabc"
    for step in [1, 5, Int.max] {
        f.parser.reset()
        let input = Array((first + second).utf8)
        let used = try f.feed(input, step: step)
        #expect(used == first.utf8.count)
        #expect(f.parser.isComplete)
        #expect(parseError { () throws(HTTPParseError) in _ = try f.parser.body() } == .bodyTooLarge(totalBytes: 10))
        #expect(text(f.parser.bodyPrefix) == "0123")
        #expect(f.parser.bodyLength == 10)
        #expect(f.parser.connectionReusable)
        f.parser.reset()
        try f.feed(Array(input[used...]), step: step)
        #expect(f.parser.statusCode == 202)
        #expect(f.bodyText == "abc")
    }
}

@Test func bodyExactlyFillsBuffer() throws {
    let f = Fixture(bodySize: 4)
    try f.feed("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd")
    #expect(f.bodyText == "abcd")
}

@Test func feedingACompleteParserFails() throws {
    let f = Fixture()
    try f.feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx")
    #expect(try Bytes("").with { (b) throws(HTTPParseError) in try f.parser.feed(b) } == 0)
    let y = Bytes("y")
    #expect(parseError { () throws(HTTPParseError) in _ = try y.with { (b) throws(HTTPParseError) in
        try f.parser.feed(b) } } == .dataAfterEnd)
    // The error is sticky.
    #expect(parseError { () throws(HTTPParseError) in _ = try f.parser.body() } == .dataAfterEnd)
    #expect(!f.parser.connectionReusable)
}

@Test func largeHeaderBlockFitsExactly() throws {
    // 2 + reason, then 4 + name + value per header; the line being read needs 4 + its length.
    let response = "HTTP/1.1 200 OK\r\nAAAA: 0123456789\r\nContent-Length: 0\r\n\r\n"
    // The longest line is "Content-Length: 0" (17) read after 2+2 + 4+14 stored bytes.
    let needed = 2 + 2 + 4 + 14 + 4 + 17
    let f = Fixture(headerSize: needed)
    try f.feed(response)
    #expect(f.parser.isComplete)
    let g = Fixture(headerSize: needed - 1)
    #expect(parseError { () throws(HTTPParseError) in _ = try g.feed(response) } == .headerBlockTooLarge)
}
