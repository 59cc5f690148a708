import Foundation
import TinyPlatform
import TinyTLS

/// Hand-built MQTT 3.1.1 packets over a TLS connection, for checking what the IoT Hub gate
/// accepts and refuses without going through TinyHub's encoder.
final class RawMQTTClient {
    let transport: TLSTransport

    init(port: UInt16, trust: String) throws {
        transport = try TLSTransport(TLSConfiguration(host: "localhost", port: port, trustAnchors: .file(trust)))
        try transport.open(timeoutMs: 10_000)
    }

    deinit { transport.close() }

    func send(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try transport.send($0, timeoutMs: 10_000) }
    }

    /// Reads exactly `count` bytes (throws if the connection closes first or 10 s pass).
    func read(_ count: Int) throws -> [UInt8] {
        var result = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: count)
        let deadline = Date().addingTimeInterval(10)
        while result.count < count {
            guard Date() < deadline else { throw HarnessError("no \(count) bytes from the gate") }
            let got = try chunk.withUnsafeMutableBytes {
                try transport.receive(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<(count - result.count)]), timeoutMs: 500)
            }
            result += chunk[0..<got]
        }
        return result
    }

    /// True once the peer closed the connection (waits up to 10 s; bytes that arrive first are skipped).
    func waitForClose() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 512)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            do {
                _ = try chunk.withUnsafeMutableBytes { try transport.receive(into: $0, timeoutMs: 500) }
            } catch {
                return true
            }
        }
        return false
    }

    // MARK: - Packets

    static func string(_ text: String) -> [UInt8] { binary(Array(text.utf8)) }

    static func binary(_ bytes: [UInt8]) -> [UInt8] { [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes }

    static func packet(_ first: UInt8, _ body: [UInt8]) -> [UInt8] {
        var length = body.count
        var header: [UInt8] = [first]
        repeat {
            var byte = UInt8(length % 128)
            length /= 128
            if length > 0 { byte |= 0x80 }
            header.append(byte)
        } while length > 0
        return header + body
    }

    static func connect(clientID: String, username: String?, password: String?, cleanSession: Bool = false,
                        keepAlive: UInt16 = 60, level: UInt8 = 4) -> [UInt8] {
        var flags: UInt8 = cleanSession ? 0x02 : 0
        if username != nil { flags |= 0x80 }
        if password != nil { flags |= 0x40 }
        var body = string("MQTT") + [level, flags, UInt8(keepAlive >> 8), UInt8(keepAlive & 0xFF)] + string(clientID)
        if let username { body += string(username) }
        if let password { body += string(password) }
        return packet(0x10, body)
    }

    static func publish(_ topic: String, _ payload: String, qos: UInt8, packetID: UInt16 = 1) -> [UInt8] {
        var body = string(topic)
        if qos > 0 { body += [UInt8(packetID >> 8), UInt8(packetID & 0xFF)] }
        return packet(0x30 | (qos << 1), body + Array(payload.utf8))
    }

    static func subscribe(_ filter: String, qos: UInt8, packetID: UInt16 = 1) -> [UInt8] {
        packet(0x82, [UInt8(packetID >> 8), UInt8(packetID & 0xFF)] + string(filter) + [qos])
    }

    /// A device-key SAS token built here from the documented format: sr = URL-encoded resource,
    /// sig = URL-encoded base64 HMAC-SHA256(key, sr + "\n" + se) computed by openssl.
    static func sasToken(resource: String, key: String, expiry: Int) throws -> String {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        let sr = resource.addingPercentEncoding(withAllowedCharacters: unreserved)!
        let sig = try hmacSHA256Base64(key: key, message: "\(sr)\n\(expiry)").addingPercentEncoding(withAllowedCharacters: unreserved)!
        return "SharedAccessSignature sr=\(sr)&sig=\(sig)&se=\(expiry)"
    }
}
