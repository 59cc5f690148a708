import Foundation
import Testing
import TinyHTTP
import TinyPlatform
import TinyTLS
import TinyWebSocket

private let rfcKey = Array("dGhlIHNhbXBsZSBub25jZQ==".utf8) // RFC 6455 §1.3
private let rfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

/// FIPS 180 examples ("abc") and the empty message.
@Test func sha1Vectors() throws {
    for (text, digest) in [("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
                           ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709")] {
        var out = [UInt8](repeating: 0, count: 20)
        try Array(text.utf8).withUnsafeBytes { m in try out.withUnsafeMutableBytes { try SHA1.hash(m, into: $0) } }
        #expect(hex(out) == digest)
    }
    var small = [UInt8](repeating: 0, count: 19)
    #expect(throws: CryptoError.bufferTooSmall(needed: 20)) {
        try [UInt8]().withUnsafeBytes { m in try small.withUnsafeMutableBytes { try SHA1.hash(m, into: $0) } }
    }
}

/// RFC 6455 §1.3's worked example of the accept value.
@Test func acceptOfRFCExample() throws {
    var accept = [UInt8](repeating: 0, count: 28)
    try rfcKey.withUnsafeBytes { k in try accept.withUnsafeMutableBytes { try WebSocketHandshake.expectedAccept(key: k, into: $0) } }
    #expect(String(decoding: accept, as: UTF8.self) == rfcAccept)
}

/// The key is the Base64 of the 16 bytes the random source gave (memory order).
@Test func keyFromRandom() throws {
    var values: [UInt32] = [0x0302_0100, 0x0706_0504, 0x0B0A_0908, 0x0F0E_0D0C]
    var key = [UInt8](repeating: 0, count: 24)
    try key.withUnsafeMutableBytes { k in try WebSocketHandshake.makeKey(into: k) { values.removeFirst() } }
    #expect(String(decoding: key, as: UTF8.self) == "AAECAwQFBgcICQoLDA0ODw==")
    #expect(values.isEmpty)
}

private func request(host: String, certificate: Bool, size: Int = 512) throws -> String {
    var buffer = [UInt8](repeating: 0, count: size)
    let n = try buffer.withUnsafeMutableBytes { b in
        var writer = HTTPRequestWriter(buffer: b)
        return try Array(host.utf8).withUnsafeBytes { h in
            try rfcKey.withUnsafeBytes { k in
                try WebSocketHandshake.writeRequest(into: &writer, host: h, key: k, clientCertificate: certificate)
            }
        }
    }
    return String(decoding: buffer[0..<n], as: UTF8.self)
}

@Test func upgradeRequests() throws {
    let tail = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n"
    #expect(try request(host: "hub.azure-devices.net", certificate: false)
        == "GET /$iothub/websocket?iothub-no-client-cert=true HTTP/1.1\r\nHost: hub.azure-devices.net\r\n" + tail)
    #expect(try request(host: "hub.azure-devices.net", certificate: true)
        == "GET /$iothub/websocket HTTP/1.1\r\nHost: hub.azure-devices.net\r\n" + tail)
    #expect(throws: WebSocketHandshakeError.self) { try request(host: "h", certificate: false, size: 100) }
    #expect(throws: WebSocketHandshakeError.requestNotEncodable(.invalidHost)) {
        try request(host: "bad\r\nhost", certificate: false)
    }
}

private func validate(_ response: String) throws {
    var head = [UInt8](repeating: 0, count: 1024)
    var body = [UInt8](repeating: 0, count: 64)
    let bytes = Array(response.utf8)
    try head.withUnsafeMutableBytes { h in
        try body.withUnsafeMutableBytes { b in
            var parser = HTTPResponseParser(headerBuffer: h, bodyBuffer: b)
            let used = try bytes.withUnsafeBytes { try parser.feed($0) }
            #expect(used == bytes.count && parser.isComplete)
            try rfcKey.withUnsafeBytes { k in try WebSocketHandshake.validate(parser, key: k) }
        }
    }
}

@Test func responseChecks() throws {
    let good = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Accept: \(rfcAccept)\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n"
    try validate(good)
    try validate("HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n"
        + "sec-websocket-accept: \(rfcAccept)\r\nsec-websocket-protocol: mqtt\r\n\r\n")
    #expect(throws: WebSocketHandshakeError.unexpectedStatus(401)) {
        try validate("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
    }
    #expect(throws: WebSocketHandshakeError.missingUpgradeHeader) {
        try validate(good.replacingOccurrences(of: "Upgrade: websocket", with: "Upgrade: h2c"))
    }
    #expect(throws: WebSocketHandshakeError.missingConnectionUpgrade) {
        try validate(good.replacingOccurrences(of: "Connection: Upgrade", with: "Connection: keep-alive"))
    }
    #expect(throws: WebSocketHandshakeError.badAccept) {
        try validate(good.replacingOccurrences(of: "s3pPLM", with: "s3pPLN"))
    }
    #expect(throws: WebSocketHandshakeError.badAccept) {
        try validate(good.replacingOccurrences(of: "Sec-WebSocket-Accept: \(rfcAccept)\r\n", with: ""))
    }
    #expect(throws: WebSocketHandshakeError.wrongSubprotocol) {
        try validate(good.replacingOccurrences(of: "Protocol: mqtt", with: "Protocol: mqttv5"))
    }
    #expect(throws: WebSocketHandshakeError.wrongSubprotocol) {
        try validate(good.replacingOccurrences(of: "Sec-WebSocket-Protocol: mqtt\r\n", with: ""))
    }
}
