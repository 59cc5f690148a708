import Testing
@testable import TinyHTTP

/// Owns the caller buffers of a parser for the length of a test.
final class Fixture {
    let headerBuffer: UnsafeMutableRawBufferPointer
    let bodyBuffer: UnsafeMutableRawBufferPointer
    var parser: HTTPResponseParser

    init(headerSize: Int = 1024, bodySize: Int = 1024, maxHeaderCount: Int = 32, maxLineLength: Int = 4096) {
        headerBuffer = .allocate(byteCount: headerSize, alignment: 1)
        bodyBuffer = .allocate(byteCount: bodySize, alignment: 1)
        headerBuffer.initializeMemory(as: UInt8.self, repeating: 0xEE)
        bodyBuffer.initializeMemory(as: UInt8.self, repeating: 0xEE)
        parser = HTTPResponseParser(headerBuffer: headerBuffer, bodyBuffer: bodyBuffer,
                                    maxHeaderCount: maxHeaderCount, maxLineLength: maxLineLength)
    }

    deinit {
        headerBuffer.deallocate()
        bodyBuffer.deallocate()
    }

    /// Feeds `input` in pieces of at most `step` bytes until the parser stops consuming
    /// (response complete) or the input ends; returns how many bytes it used.
    @discardableResult
    func feed(_ input: [UInt8], step: Int = .max) throws(HTTPParseError) -> Int {
        var used = 0
        while used < input.count, !parser.isComplete {
            let start = used
            let end = start + min(input.count - start, step)
            let n = try Bytes(input).with { (raw) throws(HTTPParseError) -> Int in
                try parser.feed(UnsafeRawBufferPointer(rebasing: raw[start..<end]))
            }
            used += n
            if n < end - start { break }
        }
        return used
    }

    @discardableResult
    func feed(_ text: String, step: Int = .max) throws(HTTPParseError) -> Int {
        try feed(Array(text.utf8), step: step)
    }

    /// The body as text, or nil if `body()` throws.
    var bodyText: String? {
        guard let body = try? parser.body() else { return nil }
        return text(body)
    }

    /// A header value as text, or nil.
    func header(_ name: StaticString) -> String? { parser.header(name).map(text) }
}

/// Bytes as a String (test output only).
func text(_ bytes: UnsafeRawBufferPointer) -> String { String(decoding: bytes, as: UTF8.self) }

/// The error a throwing call produced, or nil.
func parseError(_ body: () throws(HTTPParseError) -> Void) -> HTTPParseError? {
    do { try body() } catch { return error }
    return nil
}

/// The error a throwing call produced, or nil.
func encodeError(_ body: () throws(HTTPEncodeError) -> Void) -> HTTPEncodeError? {
    do { try body() } catch { return error }
    return nil
}

/// Byte buffers for request-writer tests.
final class Bytes: Sendable {
    let storage: [UInt8]
    init(_ s: String) { storage = Array(s.utf8) }
    init(_ b: [UInt8]) { storage = b }
    func with<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        var result: Result<R, E>!
        storage.withUnsafeBytes { raw in
            do throws(E) { result = .success(try body(raw)) } catch { result = .failure(error) }
        }
        return try result.get()
    }
}
