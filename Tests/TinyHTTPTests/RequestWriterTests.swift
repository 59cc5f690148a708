import Testing
@testable import TinyHTTP

/// Writes a request with `build` into a buffer of `size` bytes; returns the text.
private func request(size: Int = 512,
                     _ build: (inout HTTPRequestWriter) throws(HTTPEncodeError) -> Int) throws(HTTPEncodeError) -> String {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 1)
    defer { buffer.deallocate() }
    var writer = HTTPRequestWriter(buffer: buffer)
    let n = try build(&writer)
    #expect(n == writer.length)
    return text(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
}

private let path = Bytes("/devices/dev%201/messages/deviceBound?api-version=2021-04-12")
private let host = Bytes("hub.azure-devices.net")

@Test func getWithoutBody() throws {
    let sas = Bytes("SharedAccessSignature sr=hub&sig=abc%3D&se=1")
    let out = try request { (w) throws(HTTPEncodeError) in
        try path.with { (p) throws(HTTPEncodeError) in try host.with { (h) throws(HTTPEncodeError) in
            try w.start(method: .get, path: p, host: h) } }
        try sas.with { (v) throws(HTTPEncodeError) in try w.header(name: "Authorization", value: v) }
        return try w.finish()
    }
    #expect(out == "GET /devices/dev%201/messages/deviceBound?api-version=2021-04-12 HTTP/1.1\r\n"
        + "Host: hub.azure-devices.net\r\n"
        + "Authorization: SharedAccessSignature sr=hub&sig=abc%3D&se=1\r\n\r\n")
}

@Test func postWithBody() throws {
    let body = Bytes("{\"a\":1}")
    let out = try request { (w) throws(HTTPEncodeError) in
        try Bytes("/x?y=1").with { (p) throws(HTTPEncodeError) in try host.with { (h) throws(HTTPEncodeError) in
            try w.start(method: .post, path: p, host: h) } }
        try w.header(name: "Content-Type", value: "application/json")
        try w.header(name: "iothub-messageid", value: 42)
        try w.header(name: "X-Neg", value: -7)
        return try body.with { (b) throws(HTTPEncodeError) in try w.finish(body: b) }
    }
    #expect(out == "POST /x?y=1 HTTP/1.1\r\nHost: hub.azure-devices.net\r\nContent-Type: application/json\r\n"
        + "iothub-messageid: 42\r\nX-Neg: -7\r\nContent-Length: 7\r\n\r\n{\"a\":1}")
}

@Test func emptyBodyWritesContentLengthZero() throws {
    let out = try request { (w) throws(HTTPEncodeError) in
        try Bytes("/").with { (p) throws(HTTPEncodeError) in try host.with { (h) throws(HTTPEncodeError) in
            try w.start(method: .delete, path: p, host: h) } }
        return try w.finish(body: UnsafeRawBufferPointer(start: nil, count: 0))
    }
    #expect(out == "DELETE / HTTP/1.1\r\nHost: hub.azure-devices.net\r\nContent-Length: 0\r\n\r\n")
}

@Test func piecewiseTargetAndValue() throws {
    let id = Bytes("dev1"), sig = Bytes("sig=abc")
    let out = try request { (w) throws(HTTPEncodeError) in
        try w.beginTarget(method: .post)
        try w.appendTarget("/devices/")
        try id.with { (b) throws(HTTPEncodeError) in try w.appendTarget(b) }
        try w.appendTarget("/messages/events")
        try host.with { (h) throws(HTTPEncodeError) in try w.endTarget(host: h) }
        try w.beginHeader(name: "Authorization")
        try w.appendValue("SharedAccessSignature ")
        try sig.with { (b) throws(HTTPEncodeError) in try w.appendValue(b) }
        try w.endHeader()
        return try w.finish(contentLength: 1234)
    }
    #expect(out == "POST /devices/dev1/messages/events HTTP/1.1\r\nHost: hub.azure-devices.net\r\n"
        + "Authorization: SharedAccessSignature sig=abc\r\nContent-Length: 1234\r\n\r\n")
}

@Test(arguments: [HTTPMethod.get, .head, .post, .put, .delete, .patch, .connect])
func methodTokens(method: HTTPMethod) throws {
    let out = try request { (w) throws(HTTPEncodeError) in
        try Bytes("/p").with { (p) throws(HTTPEncodeError) in try Bytes("h").with { (h) throws(HTTPEncodeError) in
            try w.start(method: method, path: p, host: h) } }
        return try w.finish()
    }
    let expected = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "CONNECT"][[HTTPMethod.get, .head, .post, .put, .delete, .patch, .connect]
        .firstIndex(of: method)!]
    #expect(out == expected + " /p HTTP/1.1\r\nHost: h\r\n\r\n")
}

/// The exact size fits; one byte less fails with `bufferTooSmall` and writes nothing.
@Test func bufferTooSmallAtEveryStep() throws {
    let body = Bytes("hello")
    func build(_ w: inout HTTPRequestWriter) throws(HTTPEncodeError) -> Int {
        try Bytes("/a").with { (p) throws(HTTPEncodeError) in try Bytes("h.net").with { (h) throws(HTTPEncodeError) in
            try w.start(method: .put, path: p, host: h) } }
        try w.header(name: "A", value: "b")
        return try body.with { (b) throws(HTTPEncodeError) in try w.finish(body: b) }
    }
    let full = try request(size: 512, build)
    let exact = full.utf8.count
    #expect(try request(size: exact, build) == full)
    for size in 0..<exact {
        let error = encodeError { () throws(HTTPEncodeError) in _ = try request(size: size, build) }
        guard case .bufferTooSmall(let needed)? = error else {
            Issue.record("size \(size): \(String(describing: error))")
            continue
        }
        #expect(needed > size && needed <= exact)
    }
    // A failed call leaves the writer where it was.
    let small = UnsafeMutableRawBufferPointer.allocate(byteCount: 32, alignment: 1)
    defer { small.deallocate() }
    var w = HTTPRequestWriter(buffer: small)
    try Bytes("/a").with { (p) throws(HTTPEncodeError) in try Bytes("h.net").with { (h) throws(HTTPEncodeError) in
        try w.start(method: .get, path: p, host: h) } }
    let before = w.length
    #expect(encodeError { () throws(HTTPEncodeError) in try w.header(name: "Long-Header", value: "xxxxxxxxxxxx") }
        == .bufferTooSmall(needed: before + 27))
    #expect(w.length == before)
    #expect(try w.finish() == before + 2)
}

@Test(arguments: ["a\r\nX-Evil: 1", "a\nb", "a\rb", "a\u{0}b", "a\u{7F}", "a\u{1}"])
func headerValueInjectionRejected(value: String) throws {
    let v = Bytes(value)
    let error = encodeError { () throws(HTTPEncodeError) in
        _ = try request { (w) throws(HTTPEncodeError) in
            try Bytes("/").with { (p) throws(HTTPEncodeError) in try Bytes("h").with { (h) throws(HTTPEncodeError) in
                try w.start(method: .get, path: p, host: h) } }
            try v.with { (b) throws(HTTPEncodeError) in try w.header(name: "X", value: b) }
            return 0
        }
    }
    #expect(error == .invalidHeaderValue)
    let pieceError = encodeError { () throws(HTTPEncodeError) in
        _ = try request { (w) throws(HTTPEncodeError) in
            try Bytes("/").with { (p) throws(HTTPEncodeError) in try Bytes("h").with { (h) throws(HTTPEncodeError) in
                try w.start(method: .get, path: p, host: h) } }
            try w.beginHeader(name: "X")
            try v.with { (b) throws(HTTPEncodeError) in try w.appendValue(b) }
            return 0
        }
    }
    #expect(pieceError == .invalidHeaderValue)
}

@Test func tabInValueAllowed() throws {
    let out = try request { (w) throws(HTTPEncodeError) in
        try Bytes("/").with { (p) throws(HTTPEncodeError) in try Bytes("h").with { (h) throws(HTTPEncodeError) in
            try w.start(method: .get, path: p, host: h) } }
        try w.header(name: "X", value: "a\tb")
        return try w.finish()
    }
    #expect(out.hasSuffix("X: a\tb\r\n\r\n"))
}

@Test(arguments: ["", "X Y", "X:", "X\r\n", "X\u{0}", "Ä", "(x)"])
func headerNameRejected(name: String) throws {
    let n = Bytes(name)
    let error = encodeError { () throws(HTTPEncodeError) in
        _ = try request { (w) throws(HTTPEncodeError) in
            try Bytes("/").with { (p) throws(HTTPEncodeError) in try Bytes("h").with { (h) throws(HTTPEncodeError) in
                try w.start(method: .get, path: p, host: h) } }
            try n.with { (b) throws(HTTPEncodeError) in try Bytes("v").with { (v) throws(HTTPEncodeError) in
                try w.header(name: b, value: v) } }
            return 0
        }
    }
    #expect(error == .invalidHeaderName)
}

@Test(arguments: ["Host", "host", "CONTENT-LENGTH", "Content-Length"])
func reservedHeadersRejected(name: String) throws {
    let n = Bytes(name)
    let error = encodeError { () throws(HTTPEncodeError) in
        _ = try request { (w) throws(HTTPEncodeError) in
            try Bytes("/").with { (p) throws(HTTPEncodeError) in try Bytes("h").with { (h) throws(HTTPEncodeError) in
                try w.start(method: .get, path: p, host: h) } }
            try n.with { (b) throws(HTTPEncodeError) in try Bytes("1").with { (v) throws(HTTPEncodeError) in
                try w.header(name: b, value: v) } }
            return 0
        }
    }
    #expect(error == .reservedHeader)
}

@Test(arguments: ["", "/a b", "/a\r\nX: y", "/a\n", "/\u{0}", "/\t"])
func pathRejected(p: String) throws {
    let pb = Bytes(p)
    let error = encodeError { () throws(HTTPEncodeError) in
        _ = try request { (w) throws(HTTPEncodeError) in
            try pb.with { (b) throws(HTTPEncodeError) in try Bytes("h").with { (h) throws(HTTPEncodeError) in
                try w.start(method: .get, path: b, host: h) } }
            return 0
        }
    }
    #expect(error == .invalidPath)
    let pieceError = encodeError { () throws(HTTPEncodeError) in
        _ = try request { (w) throws(HTTPEncodeError) in
            try w.beginTarget(method: .get)
            try pb.with { (b) throws(HTTPEncodeError) in try w.appendTarget(b) }
            try Bytes("h").with { (h) throws(HTTPEncodeError) in try w.endTarget(host: h) }
            return 0
        }
    }
    #expect(pieceError == .invalidPath)
}

@Test(arguments: ["", "h\r\nX: 1", "a b", "h\u{0}"])
func hostRejected(hostName: String) throws {
    let hb = Bytes(hostName)
    let error = encodeError { () throws(HTTPEncodeError) in
        _ = try request { (w) throws(HTTPEncodeError) in
            try Bytes("/").with { (p) throws(HTTPEncodeError) in try hb.with { (h) throws(HTTPEncodeError) in
                try w.start(method: .get, path: p, host: h) } }
            return 0
        }
    }
    #expect(error == .invalidHost)
}

@Test func callsOutOfOrder() throws {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 1)
    defer { buffer.deallocate() }
    var w = HTTPRequestWriter(buffer: buffer)
    #expect(encodeError { () throws(HTTPEncodeError) in try w.header(name: "A", value: "b") } == .outOfOrder)
    #expect(encodeError { () throws(HTTPEncodeError) in _ = try w.finish() } == .outOfOrder)
    #expect(encodeError { () throws(HTTPEncodeError) in try w.appendTarget("/x") } == .outOfOrder)
    try w.beginTarget(method: .get)
    #expect(encodeError { () throws(HTTPEncodeError) in
        try Bytes("h").with { (h) throws(HTTPEncodeError) in try w.endTarget(host: h) } } == .invalidPath)
    try w.appendTarget("/x")
    try Bytes("h").with { (h) throws(HTTPEncodeError) in try w.endTarget(host: h) }
    #expect(encodeError { () throws(HTTPEncodeError) in try w.appendValue("v") } == .outOfOrder)
    try w.beginHeader(name: "A")
    #expect(encodeError { () throws(HTTPEncodeError) in _ = try w.finish() } == .outOfOrder)
    try w.endHeader()
    #expect(encodeError { () throws(HTTPEncodeError) in _ = try w.finish(contentLength: -1) } == .invalidContentLength)
    let n = try w.finish()
    #expect(text(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) == "GET /x HTTP/1.1\r\nHost: h\r\nA: \r\n\r\n")
    #expect(encodeError { () throws(HTTPEncodeError) in _ = try w.finish() } == .outOfOrder)
    #expect(encodeError { () throws(HTTPEncodeError) in try w.header(name: "B", value: "c") } == .outOfOrder)
    w.reset()
    try w.beginTarget(method: .head)
    try w.appendTarget("/")
    try Bytes("h").with { (h) throws(HTTPEncodeError) in try w.endTarget(host: h) }
    let m = try w.finish()
    #expect(text(UnsafeRawBufferPointer(rebasing: buffer[0..<m])) == "HEAD / HTTP/1.1\r\nHost: h\r\n\r\n")
}

/// Single-character constants are stored as one Unicode scalar, not as bytes: they must
/// still be written as UTF-8.
@Test func singleScalarConstants() throws {
    let out = try request { (w) throws(HTTPEncodeError) in
        try w.beginTarget(method: .get)
        try w.appendTarget("/")
        try Bytes("h").with { (h) throws(HTTPEncodeError) in try w.endTarget(host: h) }
        try w.header(name: "A", value: "é")
        try w.header(name: "B", value: "€")
        try w.header(name: "C", value: "😀")
        try w.header(name: "D", value: "z")
        return try w.finish()
    }
    #expect(Array(out.utf8) == Array("GET / HTTP/1.1\r\nHost: h\r\nA: é\r\nB: €\r\nC: 😀\r\nD: z\r\n\r\n".utf8))
}
