import Foundation
import Testing
import TinyPlatform
@testable import TinyTLS

/// How a `TLSTransport` reads its proxy's answer to CONNECT (`ProxyAnswer`, TinyHTTP's parser in
/// a fixed buffer): 2xx opens the tunnel at the end of its head, any other final status is
/// `proxyRefused(status)`, anything else `proxyInvalidResponse`; fed whole, in every split and
/// byte by byte. Expected outcomes come from RFC 9110 §9.3.6 and §15, not from the code.
@Suite struct ProxyAnswerTests {
    enum Outcome: Equatable { case open, openBeforeTheEnd, needMore, refused(Int), invalid, other(String) }

    /// Feeds `answer` in pieces cut at `cuts`; the outcome of the last feed (or of the first throw).
    func outcome(_ answer: [UInt8], cuts: [Int] = [], headBytes: Int = ProxyTunnel.headBytes) -> Outcome {
        let head = UnsafeMutableRawBufferPointer.allocate(byteCount: headBytes, alignment: 1)
        defer { head.deallocate() }
        var reader = ProxyAnswer(headerBuffer: head)
        var start = 0
        for end in cuts.filter({ $0 > 0 && $0 < answer.count }) + [answer.count] {
            do {
                let open = try answer[start..<end].withUnsafeBytes { try reader.feed($0) }
                if open { return end == answer.count ? .open : .openBeforeTheEnd }
            } catch {
                switch error as? TransportError {
                case .proxyRefused(let status)?: return .refused(status)
                case .proxyInvalidResponse?: return .invalid
                default: return .other("\(error)")
                }
            }
            start = end
        }
        return .needMore
    }

    /// The same outcome whole, at every single cut, and byte by byte.
    func expectEverySplit(_ text: String, _ expected: Outcome, sourceLocation: SourceLocation = #_sourceLocation) {
        let bytes = Array(text.utf8)
        #expect(outcome(bytes) == expected, "whole", sourceLocation: sourceLocation)
        for cut in 1..<max(1, bytes.count) {
            #expect(outcome(bytes, cuts: [cut]) == expected, "cut at \(cut)", sourceLocation: sourceLocation)
        }
        #expect(outcome(bytes, cuts: Array(1..<bytes.count)) == expected, "byte by byte", sourceLocation: sourceLocation)
    }

    @Test func twoHundredOpensTheTunnel() {
        expectEverySplit("HTTP/1.1 200 Connection established\r\n\r\n", .open)
        expectEverySplit("HTTP/1.0 200 OK\r\nProxy-Agent: test/1.0\r\n\r\n", .open)
        // A 2xx answer to CONNECT has no body, whatever it says (RFC 9110 §9.3.6).
        expectEverySplit("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", .open)
        expectEverySplit("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n", .open)
        // Bare LF line ends are accepted by the parser (RFC 9112 §2.2).
        expectEverySplit("HTTP/1.1 200 OK\n\n", .open)
    }

    @Test func interimAnswersAreSkipped() {
        expectEverySplit("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 Connection established\r\n\r\n", .open)
        expectEverySplit("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 407 Proxy Authentication Required\r\n\r\n", .refused(407))
    }

    @Test(arguments: [300, 301, 400, 403, 404, 405, 407, 500, 502, 503, 504, 599])
    func everyOtherFinalStatusIsARefusal(status: Int) {
        // Refused as soon as the status line is read: headers and body do not matter.
        expectEverySplit("HTTP/1.1 \(status) No\r\n", .refused(status))
        expectEverySplit("HTTP/1.1 \(status) No\r\nProxy-Authenticate: Basic realm=\"x\"\r\nContent-Length: 5\r\n\r\nnope!", .refused(status))
        // Even when the rest would not parse or not fit.
        #expect(outcome(Array("HTTP/1.1 \(status) No\r\n\u{1}bad header\r\n\r\n".utf8)) == .refused(status))
        #expect(outcome(Array(("HTTP/1.1 \(status) No\r\n" + String(repeating: "X-Pad: yyyyyyyy\r\n", count: 200) + "\r\n").utf8))
                == .refused(status))
    }

    @Test func incompleteAnswersWaitForMore() {
        for text in ["", "H", "HTTP/1.1 2", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\nVia: x\r\n", "HTTP/1.1 200 OK\r\n\r",
                     "HTTP/1.1 100 Continue\r\n\r\n"] {
            #expect(outcome(Array(text.utf8)) == .needMore, "\(text.debugDescription)")
        }
    }

    @Test func bytesAfterATwoHundredHeadAreInvalid() {
        // TLS waits for the client's hello: nothing from the destination can come before it.
        #expect(outcome(Array("HTTP/1.1 200 OK\r\n\r\nX".utf8)) == .invalid)
        #expect(outcome(Array("HTTP/1.1 200 OK\r\n\r\n\u{16}\u{3}\u{3}".utf8)) == .invalid)
    }

    @Test func notHTTPIsInvalid() {
        for text in ["SSH-2.0-OpenSSH_9.6\r\n", "\u{16}\u{3}\u{1}\u{0}\u{5}hello\r\n", "http/1.1 200 OK\r\n", "HTTP/2 200\r\n",
                     "HTTP/1.1 20 OK\r\n", "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "HTTP/1.1 200 OK\r\n\u{7}: x\r\n\r\n",
                     "HTTP/1.1 200 OK\rX", "HTTP/1.1 099 Low\r\n", "HTTP/1.1 600 High\r\n",
                     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"] {
            #expect(outcome(Array(text.utf8)) == .invalid, "\(text.debugDescription)")
        }
    }

    @Test func aHeadLargerThanTheBufferIsInvalid() {
        let big = "HTTP/1.1 200 Connection established\r\n" + String(repeating: "X-Pad: 0123456789abcdef\r\n", count: 60) + "\r\n"
        #expect(big.utf8.count > ProxyTunnel.headBytes)
        #expect(outcome(Array(big.utf8)) == .invalid)
        #expect(outcome(Array(big.utf8), cuts: Array(stride(from: 7, to: big.utf8.count, by: 7))) == .invalid)
        // The same answer fits a larger buffer.
        #expect(outcome(Array(big.utf8), headBytes: 4_096) == .open)
        // One status line longer than the buffer.
        #expect(outcome(Array(("HTTP/1.1 200 " + String(repeating: "O", count: 2_000) + "\r\n\r\n").utf8)) == .invalid)
    }

    @Test func randomAnswersNeverTrap() {
        var random = SeededRandom()
        let pieces = ["HTTP/1.1 ", "HTTP/1.0 ", "200", "407", "100", "101", " OK", "\r\n", "\n", "\r", ":", "X-A: b", " ", "\u{0}",
                      "Content-Length: 3", "Transfer-Encoding: chunked", "\u{16}\u{3}\u{3}", "é"]
        for _ in 0..<3_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...12, using: &random) {
                if Bool.random(using: &random) {
                    bytes += Array(pieces.randomElement(using: &random)!.utf8)
                } else {
                    bytes += (0..<Int.random(in: 1...8, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                }
            }
            let cuts = (0..<Int.random(in: 0...4, using: &random)).map { _ in Int.random(in: 0...max(0, bytes.count), using: &random) }.sorted()
            let result = outcome(bytes, cuts: cuts, headBytes: Int.random(in: 1...128, using: &random))
            if case .other(let what) = result { Issue.record(random.comment("\(what) for \(bytes)")) }
            if case .refused(let status) = result { #expect((300...599).contains(status), random.comment) }
        }
    }
}
