import CTinyPlatform
import Foundation
import Testing
import TinyPlatform
@testable import TinyTLS

/// Session resumption against a real OpenSSL server (Python's ssl module, `sessions` mode of the
/// scripted peer), which prints its own view of each handshake (`reused` / `new`): mbedTLS's
/// `lastHandshakeResumed` must agree with it, and a session that cannot be resumed must cost a
/// full handshake, never an error.
@Suite struct TLSResumptionTests {
    func transport(port: UInt16, certificates: TestCertificates, cacheBytes: Int = 4_096,
                   host: String = "localhost") throws -> TLSTransport {
        var configuration = TLSConfiguration(host: host, port: port, trustAnchors: .file(certificates.caPath))
        configuration.sessionCacheBytes = cacheBytes
        return try TLSTransport(configuration)
    }

    /// Opens, reads the peer's "ok" and closes; returns whether mbedTLS resumed.
    func connectOnce(_ transport: TLSTransport) throws -> Bool {
        try transport.open(timeoutMs: 10_000)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
        defer { buffer.deallocate() }
        var received = 0
        for _ in 0..<50 where received < 2 { received += try transport.receive(into: buffer, timeoutMs: 200) }
        #expect(received == 2)
        let resumed = transport.lastHandshakeResumed
        transport.close()
        return resumed
    }

    @Test(arguments: ["tickets", "ids"])
    func aReconnectResumesAndSoDoesALaterRunWithTheStoredSession(policy: String) throws {
        let certificates = try TestCertificates.get()
        let peer = try ScriptedPeer(["sessions", "3", policy], certificates: certificates)
        let first = try transport(port: peer.port, certificates: certificates)
        #expect(first.storedSession.isEmpty)
        #expect(try connectOnce(first) == false)
        #expect(peer.readLine() == "new")
        #expect(!first.storedSession.isEmpty)
        // A reconnect in the same run.
        #expect(try connectOnce(first) == true)
        #expect(peer.readLine() == "reused")
        #expect(first.lastVerificationFlags == 0)
        // A later run: a new transport given the stored record.
        let record = Array(first.storedSession)
        let later = try transport(port: peer.port, certificates: certificates)
        #expect(record.withUnsafeBytes { later.restoreSession($0) })
        #expect(try connectOnce(later) == true)
        #expect(peer.readLine() == "reused")
    }

    @Test func aServerThatResumesNothingGetsFullHandshakes() throws {
        let certificates = try TestCertificates.get()
        let peer = try ScriptedPeer(["sessions", "2", "refuse"], certificates: certificates)
        let client = try transport(port: peer.port, certificates: certificates)
        #expect(try connectOnce(client) == false)
        #expect(try connectOnce(client) == false)
        #expect(peer.readLine() == "new")
        #expect(peer.readLine() == "new")
    }

    @Test func aDamagedMasterSecretFallsBackToAFullHandshake() throws {
        let certificates = try TestCertificates.get()
        // 1: full; 2: the damaged session, which the server resumes and the Finished messages then
        // fail (different keys on each side); 3: the full handshake the client falls back to
        // within the same open.
        let peer = try ScriptedPeer(["sessions", "3", "tickets"], certificates: certificates)
        let first = try transport(port: peer.port, certificates: certificates)
        try first.open(timeoutMs: 10_000)
        let master = withUnsafeBytes(of: first.contexts.ssl.pointee.session.pointee.master) { Array($0) }
        var record = Array(first.storedSession)
        first.close()
        #expect(peer.readLine() == "new")
        let at = try #require(Self.firstIndex(of: master, in: record), "the record holds the master secret")
        record[at + 7] ^= 0x5A
        let later = try transport(port: peer.port, certificates: certificates)
        #expect(record.withUnsafeBytes { later.restoreSession($0) })
        #expect(try connectOnce(later) == false)
        // The server took the session; the client's check of its Finished failed; then a full handshake.
        #expect(peer.readLine() == "failed")
        #expect(peer.readLine() == "new")
        #expect(!later.storedSession.isEmpty)
    }

    @Test func garbageAfterAValidHeaderIsAFullHandshake() throws {
        let certificates = try TestCertificates.get()
        let peer = try ScriptedPeer(["sessions", "1", "tickets"], certificates: certificates)
        let client = try transport(port: peer.port, certificates: certificates)
        var random = SeededRandom(seed: 7)
        let record = Self.header(host: "localhost", port: peer.port) + (0..<300).map { _ in UInt8.random(in: 0...255, using: &random) }
        #expect(record.withUnsafeBytes { client.restoreSession($0) })
        #expect(try connectOnce(client) == false)
        #expect(peer.readLine() == "new")
        // The handshake's own session replaced the garbage.
        #expect(!client.storedSession.isEmpty && Array(client.storedSession) != record)
    }

    @Test func aRecordForAnotherServerIsNotTaken() throws {
        let certificates = try TestCertificates.get()
        let peer = try ScriptedPeer(["sessions", "1", "tickets"], certificates: certificates)
        let first = try transport(port: peer.port, certificates: certificates)
        #expect(try connectOnce(first) == false)
        let record = Array(first.storedSession)
        let otherPort = try transport(port: peer.port &+ 1, certificates: certificates)
        #expect(!record.withUnsafeBytes { otherPort.restoreSession($0) })
        let otherHost = try transport(port: peer.port, certificates: certificates, host: "127.0.0.1")
        #expect(!record.withUnsafeBytes { otherHost.restoreSession($0) })
        #expect(otherHost.storedSession.isEmpty)
        // Not a record at all, and one larger than the room.
        #expect(![UInt8](repeating: 0x54, count: 40).withUnsafeBytes { first.restoreSession($0) })
        let small = try transport(port: peer.port, certificates: certificates, cacheBytes: 32)
        #expect(!record.withUnsafeBytes { small.restoreSession($0) })
        first.forgetSession()
        #expect(first.storedSession.isEmpty)
    }

    @Test func withoutRoomNothingIsKeptOrResumed() throws {
        let certificates = try TestCertificates.get()
        let peer = try ScriptedPeer(["sessions", "2", "tickets"], certificates: certificates)
        let client = try transport(port: peer.port, certificates: certificates, cacheBytes: 0)
        #expect(try connectOnce(client) == false)
        #expect(client.storedSession.isEmpty)
        #expect(try connectOnce(client) == false)
        #expect(peer.readLine() == "new")
        #expect(peer.readLine() == "new")
    }

    @Test func aSessionLargerThanTheRoomIsNotKept() throws {
        let certificates = try TestCertificates.get()
        let peer = try ScriptedPeer(["sessions", "2", "tickets"], certificates: certificates)
        // The serialization alone (with the server's certificate) is larger than 200 bytes.
        let client = try transport(port: peer.port, certificates: certificates, cacheBytes: 200)
        #expect(try connectOnce(client) == false)
        #expect(client.storedSession.isEmpty)
        #expect(try connectOnce(client) == false)
    }

    /// A record's header as `SessionStore` writes it.
    static func header(host: String, port: UInt16) -> [UInt8] {
        Array("TTS1".utf8) + [UInt8(host.utf8.count)] + Array(host.utf8) + [UInt8(port >> 8), UInt8(port & 0xFF)]
    }

    static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }
}
