import CTinyPlatform
import TinyHTTP
import TinyPlatform

extension WebSocketTransport {
    /// The opening handshake on the freshly opened inner transport: the request is written into
    /// the frame buffer and sent, then the answer is read through the receive buffer and parsed
    /// into the frame buffer (the request has left by then). Bytes after the answer's head are
    /// the server's first frames: they stay in the receive buffer as pending input.
    func upgrade(deadline: UInt64) throws(TransportError) {
        var keyStorage: (UInt64, UInt64, UInt64) = (0, 0, 0) // 24 bytes: WebSocketHandshake.keyLength
        try withUnsafeMutableBytes(of: &keyStorage) { (key) throws(TransportError) in
            do throws(WebSocketHandshakeError) {
                try WebSocketHandshake.makeKey(into: key) { Self.random32() }
            } catch {
                throw Self.transportError(error)
            }
            let length: Int
            do throws(WebSocketHandshakeError) {
                var writer = HTTPRequestWriter(buffer: frame)
                length = try WebSocketHandshake.writeRequest(into: &writer, host: host, key: UnsafeRawBufferPointer(key),
                                                             clientCertificate: clientCertificate)
            } catch {
                throw Self.transportError(error)
            }
            try inner.send(UnsafeRawBufferPointer(rebasing: frame[0..<length]), timeoutMs: Self.remaining(deadline))
            try readAnswer(key: UnsafeRawBufferPointer(key), deadline: deadline)
        }
    }

    /// Reads the answer to the upgrade until its head is complete and checks it.
    private func readAnswer(key: UnsafeRawBufferPointer, deadline: UInt64) throws(TransportError) {
        var parser = HTTPResponseParser(headerBuffer: frame, bodyBuffer: UnsafeMutableRawBufferPointer(start: nil, count: 0),
                                        maxHeaderCount: 32, maxLineLength: frame.count)
        parser.reset(headRequest: true) // a 101 has no body; neither has a refusal we stop reading at its status line
        while true {
            let wait = Self.remaining(deadline)
            guard wait > 0 else { throw .timeout }
            let n = try inner.receive(into: received, timeoutMs: wait)
            guard n > 0, n <= received.count else { continue }
            var offset = 0
            while offset < n {
                do throws(HTTPParseError) {
                    offset += try parser.feed(UnsafeRawBufferPointer(rebasing: received[offset..<n]))
                } catch {
                    try Self.refuseIfFinal(parser)
                    throw .webSocketUpgradeInvalid
                }
                try Self.refuseIfFinal(parser)
                guard parser.isComplete else { break }
                guard parser.statusCode == 101 else { // 100 Continue and the like: the answer follows
                    parser.reset(headRequest: true)
                    continue
                }
                do throws(WebSocketHandshakeError) {
                    try WebSocketHandshake.validate(parser, key: key)
                } catch {
                    throw Self.transportError(error)
                }
                pendingStart = offset
                pendingEnd = n
                return
            }
        }
    }

    /// Throws `webSocketUpgradeRefused` once a final status other than 101 has been read.
    private static func refuseIfFinal(_ parser: HTTPResponseParser) throws(TransportError) {
        guard parser.statusCode >= 200 else { return }
        throw .webSocketUpgradeRefused(status: parser.statusCode)
    }

    /// The transport error for a handshake failure.
    static func transportError(_ error: WebSocketHandshakeError) -> TransportError {
        switch error {
        case .requestNotEncodable: return .invalidConfiguration("the host name cannot go into a WebSocket upgrade request")
        case .unexpectedStatus(let status): return .webSocketUpgradeRefused(status: status)
        case .crypto(let code): return .tls(code: code)
        case .malformedResponse, .missingUpgradeHeader, .missingConnectionUpgrade, .badAccept, .wrongSubprotocol:
            return .webSocketUpgradeInvalid
        }
    }
}
