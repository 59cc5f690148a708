import TinyBytes
import TinyHTTP
import TinyPlatform
import TinyTLS

/// The client side of the opening handshake (RFC 6455 §4.1) as IoT Hub expects it:
/// `GET /$iothub/websocket` (with `?iothub-no-client-cert=true` when the device authenticates
/// with a SAS token rather than a client certificate), subprotocol `mqtt`. Pure: the caller
/// sends the request and feeds the response to an `HTTPResponseParser`.
///
/// ```swift
/// try WebSocketHandshake.makeKey(into: key, random32: { SystemPlatform().random32() })
/// var writer = HTTPRequestWriter(buffer: request)
/// let length = try WebSocketHandshake.writeRequest(into: &writer, host: host, key: UnsafeRawBufferPointer(key),
///                                                  clientCertificate: false)
/// // send request[0..<length], parse the answer with an HTTPResponseParser, then:
/// try WebSocketHandshake.validate(parser, key: UnsafeRawBufferPointer(key))
/// ```
public enum WebSocketHandshake {
    /// Length of a `Sec-WebSocket-Key`: 16 random bytes in Base64.
    public static let keyLength = 24
    /// Length of a `Sec-WebSocket-Accept`: a 20-byte SHA-1 digest in Base64.
    public static let acceptLength = 28

    /// Writes the Base64 of 16 bytes from `random32` (called 4 times) into `key` (24 bytes).
    ///
    /// - Parameters:
    ///   - key: where the 24-byte key goes.
    ///   - random32: the random source.
    /// - Throws: `WebSocketHandshakeError.crypto(code: 0)` when `key` is not 24 bytes long.
    public static func makeKey(into key: UnsafeMutableRawBufferPointer,
                               random32: () -> UInt32) throws(WebSocketHandshakeError) {
        var raw: (UInt32, UInt32, UInt32, UInt32) = (random32(), random32(), random32(), random32())
        var sink = ByteSink(key)
        withUnsafeBytes(of: &raw) { sink.base64($0) }
        guard !sink.overflowed, sink.count == keyLength else { throw .crypto(code: 0) }
    }

    /// Writes the upgrade request for `host` with `key` into `writer` and returns its length.
    /// `clientCertificate: false` (SAS authentication) adds `?iothub-no-client-cert=true`.
    ///
    /// - Parameters:
    ///   - writer: the request writer.
    ///   - host: the server's host name.
    ///   - key: the `Sec-WebSocket-Key`.
    ///   - clientCertificate: whether the device authenticates with a certificate.
    /// - Returns: the request's length.
    /// - Throws: `WebSocketHandshakeError.requestNotEncodable` when the request does not fit or the host cannot go into it.
    public static func writeRequest(
        into writer: inout HTTPRequestWriter, host: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer,
        clientCertificate: Bool
    ) throws(WebSocketHandshakeError) -> Int {
        do throws(HTTPEncodeError) {
            try writer.beginTarget(method: .get)
            try writer.appendTarget("/$iothub/websocket")
            if !clientCertificate { try writer.appendTarget("?iothub-no-client-cert=true") }
            try writer.endTarget(host: host)
            try writer.header(name: "Upgrade", value: "websocket")
            try writer.header(name: "Connection", value: "Upgrade")
            try writer.header(name: "Sec-WebSocket-Key", value: key)
            try writer.header(name: "Sec-WebSocket-Version", value: "13")
            try writer.header(name: "Sec-WebSocket-Protocol", value: "mqtt")
            return try writer.finish()
        } catch {
            throw .requestNotEncodable(error)
        }
    }

    /// Writes base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) into `accept` (28 bytes).
    ///
    /// - Parameters:
    ///   - key: the `Sec-WebSocket-Key` sent.
    ///   - accept: where the 28-byte value goes.
    /// - Throws: `WebSocketHandshakeError`: `badAccept` for a `key` that is not 24 bytes, `crypto` when SHA-1 fails or `accept` is shorter than 28 bytes.
    public static func expectedAccept(key: UnsafeRawBufferPointer,
                                      into accept: UnsafeMutableRawBufferPointer) throws(WebSocketHandshakeError) {
        let guid: StaticString = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
        guard key.count == keyLength else { throw .badAccept }
        // key (24) + GUID (36) = 60 bytes, on the stack.
        var joined: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        var digest: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var sink = ByteSink(accept)
        do throws(CryptoError) {
            try withUnsafeMutableBytes(of: &joined) { (buffer) throws(CryptoError) in
                for i in 0..<keyLength { buffer[i] = key[i] }
                let g = UnsafeRawBufferPointer(start: guid.utf8Start, count: guid.utf8CodeUnitCount)
                for i in 0..<g.count { buffer[keyLength + i] = g[i] }
                let message = UnsafeRawBufferPointer(rebasing: buffer[0..<(keyLength + g.count)])
                try withUnsafeMutableBytes(of: &digest) { (d) throws(CryptoError) in
                    let sha = UnsafeMutableRawBufferPointer(rebasing: d[0..<SHA1.digestSize])
                    try SHA1.hash(message, into: sha)
                    sink.base64(UnsafeRawBufferPointer(sha))
                }
            }
        } catch {
            throw crypto(error)
        }
        guard !sink.overflowed else { throw .crypto(code: 0) }
    }

    /// Checks a complete response to the upgrade request sent with `key`: status 101,
    /// `Upgrade: websocket`, `Connection` listing `Upgrade`, the right `Sec-WebSocket-Accept`
    /// and the `mqtt` subprotocol.
    ///
    /// - Parameters:
    ///   - response: the parsed answer to the upgrade request.
    ///   - key: the `Sec-WebSocket-Key` sent.
    /// - Throws: `WebSocketHandshakeError` naming the first check that failed (`unexpectedStatus`, `missingUpgradeHeader`, `badAccept`...).
    public static func validate(_ response: HTTPResponseParser,
                                key: UnsafeRawBufferPointer) throws(WebSocketHandshakeError) {
        guard response.statusCode == 101 else { throw .unexpectedStatus(response.statusCode) }
        guard let upgrade = response.header("Upgrade"), ASCIIBytes.equalsIgnoringCase(upgrade, "websocket") else {
            throw .missingUpgradeHeader
        }
        guard let connection = response.header("Connection"), ASCIIBytes.listContains(connection, "upgrade") else {
            throw .missingConnectionUpgrade
        }
        guard let accept = response.header("Sec-WebSocket-Accept"), accept.count == acceptLength else {
            throw .badAccept
        }
        var expected: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        try withUnsafeMutableBytes(of: &expected) { (buffer) throws(WebSocketHandshakeError) in
            let slot = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<acceptLength])
            try expectedAccept(key: key, into: slot)
            for i in 0..<acceptLength where slot[i] != accept[i] { throw .badAccept }
        }
        guard let proto = response.header("Sec-WebSocket-Protocol"), ASCIIBytes.equals(proto, "mqtt") else {
            throw .wrongSubprotocol
        }
    }

    private static func crypto(_ error: CryptoError) -> WebSocketHandshakeError {
        if case .backend(let code) = error { return .crypto(code: code) }
        return .crypto(code: 0)
    }
}

/// Byte comparisons for header values (Embedded Swift has no String ==).
enum ASCIIBytes {
    static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

    static func equals(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        for i in 0..<bytes.count where bytes[i] != text.utf8Start[i] { return false }
        return true
    }

    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        for i in 0..<bytes.count where lower(bytes[i]) != lower(text.utf8Start[i]) { return false }
        return true
    }

    /// Whether the comma-separated list `bytes` holds `token` (case-insensitive, spaces trimmed).
    static func listContains(_ bytes: UnsafeRawBufferPointer, _ token: StaticString) -> Bool {
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x2C { end += 1 }
            var a = start, b = end
            while a < b && (bytes[a] == 0x20 || bytes[a] == 0x09) { a += 1 }
            while b > a && (bytes[b - 1] == 0x20 || bytes[b - 1] == 0x09) { b -= 1 }
            if equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: bytes[a..<b]), token) { return true }
            start = end + 1
        }
        return false
    }
}
