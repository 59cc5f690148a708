import Testing
@testable import TinyHTTP

private let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nETag: \"e\"\r\n\r\n"
    + "5;name=value;quoted=\"a;b\"\r\nHello\r\n"
    + "1A \t; ext\r\n, this is twenty-six bytes\r\n"
    + "00000\r\n"
    + "Trailer-One: x\r\nTrailer-Two: y\r\n\r\n"
private let chunkedBody = "Hello, this is twenty-six bytes"

/// Every split point and every feed size gives the same result.
@Test func chunkedAcrossAllFeedSizes() throws {
    let bytes = Array(chunked.utf8)
    for step in 1...bytes.count {
        let f = Fixture()
        let used = try f.feed(bytes, step: step)
        #expect(used == bytes.count, "step \(step)")
        #expect(f.parser.isComplete)
        #expect(f.parser.isChunked)
        #expect(f.bodyText == chunkedBody, "step \(step)")
        #expect(f.parser.connectionReusable)
        #expect(f.header("etag") == "\"e\"")
        #expect(f.header("trailer-one") == nil) // trailers are skipped
    }
}

@Test func chunkedSplitAtEveryPointInTwoFeeds() throws {
    let bytes = Array(chunked.utf8)
    for cut in 0...bytes.count {
        let f = Fixture()
        let a = try f.feed(Array(bytes[..<cut]))
        let b = try f.feed(Array(bytes[cut...]))
        #expect(a + b == bytes.count)
        #expect(f.bodyText == chunkedBody, "cut \(cut)")
    }
}

@Test func chunkedUppercaseHexAndBareLF() throws {
    let f = Fixture()
    try f.feed("HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\nA\n0123456789\nb\r\nabcdefghijk\r\n0\n\n")
    #expect(f.bodyText == "0123456789abcdefghijk")
}

@Test func chunkedThenPipelinedResponse() throws {
    let f = Fixture()
    let first = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    let input = first + "HTTP/1.1 204 No Content\r\n\r\n"
    #expect(try f.feed(input) == first.utf8.count)
    #expect(f.bodyText == "abc")
    f.parser.reset()
    try f.feed(Array(Array(input.utf8)[first.utf8.count...]))
    #expect(f.parser.statusCode == 204 && f.parser.isComplete)
}

@Test func chunkedBodyTooLargeIsDrained() throws {
    let f = Fixture(bodySize: 6)
    let first = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n6\r\nefghij\r\n0\r\n\r\n"
    let second = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    let input = Array((first + second).utf8)
    for step in [1, 3, Int.max] {
        f.parser.reset()
        let used = try f.feed(input, step: step)
        #expect(used == first.utf8.count)
        #expect(parseError { () throws(HTTPParseError) in _ = try f.parser.body() } == .bodyTooLarge(totalBytes: 10))
        #expect(text(f.parser.bodyPrefix) == "abcdef")
        #expect(f.parser.connectionReusable)
        f.parser.reset()
        try f.feed(Array(input[used...]), step: step)
        #expect(f.bodyText == "ok")
    }
}

@Test func emptyChunkedBody() throws {
    let f = Fixture()
    try f.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", step: 1)
    #expect(f.bodyText == "")
}
