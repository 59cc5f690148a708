import TinyHTTP
import TinyPlatform

/// Reads the proxy's answer to CONNECT with TinyHTTP's response parser, in the caller's fixed
/// header buffer. The parser runs as for a HEAD request: a 2xx answer has no body, the tunnel
/// starts right after its empty line (RFC 9110 §9.3.6), whatever `Content-Length` it carries.
///
/// - 2xx: `feed` returns true once the header block is complete. Bytes after it are an error
///   (`proxyInvalidResponse`): the destination cannot have spoken, TLS waits for our ClientHello.
/// - 1xx: skipped; the final answer follows.
/// - Any other status: `proxyRefused(status)` as soon as the status line is read, whatever
///   follows (a 407 page of any size, or garbage) and whether or not its head fits the buffer.
/// - Not HTTP, or a head larger than the buffer: `proxyInvalidResponse`.
struct ProxyAnswer {
    private var parser: HTTPResponseParser

    /// An answer reader storing the status line and headers in `headerBuffer` (its size bounds
    /// the header block; its lines are bounded by it too).
    init(headerBuffer: UnsafeMutableRawBufferPointer) {
        parser = HTTPResponseParser(headerBuffer: headerBuffer, bodyBuffer: UnsafeMutableRawBufferPointer(start: nil, count: 0),
                                    maxHeaderCount: 64, maxLineLength: max(1, headerBuffer.count))
        parser.reset(headRequest: true)
    }

    /// The final status once read (0 before).
    var status: Int { parser.isInterim ? 0 : parser.statusCode }

    /// Feeds the next bytes of the answer. Returns true when the tunnel is open (a complete 2xx
    /// head that ends exactly where `bytes` end), false when more bytes are needed.
    mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(TransportError) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let used: Int
            do throws(HTTPParseError) {
                used = try parser.feed(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            } catch {
                try refuseIfFinal()
                throw .proxyInvalidResponse
            }
            offset += used
            try refuseIfFinal()
            guard parser.isComplete else { return false }
            if parser.isInterim {
                parser.reset(headRequest: true)
                continue
            }
            // A complete 2xx head: the tunnel is open, and nothing may follow it yet.
            guard offset == bytes.count else { throw .proxyInvalidResponse }
            return true
        }
        return false
    }

    /// Throws `proxyRefused` once a final status other than 2xx has been read.
    private func refuseIfFinal() throws(TransportError) {
        // The parser accepts 100...599 only: 300 and up is a final answer other than 2xx.
        guard parser.statusCode >= 300 else { return }
        throw .proxyRefused(status: parser.statusCode)
    }
}
