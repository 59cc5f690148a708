import CTinyPlatform
import Foundation
import Testing
import TinyPlatform
@testable import TinyTLS

/// Whole-call deadlines against real sockets: a peer that trickles bytes (or reads slowly)
/// must not keep `open`, `receive` or `send` alive past their deadline. Each test checks the
/// typed outcome, plus a generous upper bound (20 times the 500 ms deadline) far below what
/// the peer would last (60 s); it never checks speed.
@Suite struct TLSDeadlineTests {
    static let deadlineMs: Int32 = 500
    static let generousBound: Duration = .seconds(10)

    func client(port: UInt16, certificates: TestCertificates) throws -> TLSTransport {
        try TLSTransport(TLSConfiguration(host: "localhost", port: port, trustAnchors: .file(certificates.caPath)))
    }

    @Test func aTrickledServerHelloCannotStretchOpen() throws {
        // A TLS record header announcing 16 KB, then one byte every 100 ms: each wait is short,
        // the whole would take 27 minutes (the peer gives up after 60 s).
        let peer = try ScriptedPeer(["trickle-hello", "100"])
        let transport = try TLSTransport(TLSConfiguration(host: "localhost", port: peer.port))
        let start = ContinuousClock.now
        #expect(throws: TransportError.timeout) { try transport.open(timeoutMs: Self.deadlineMs) }
        #expect(ContinuousClock.now - start < Self.generousBound)
        #expect(!transport.isOpen)
    }

    @Test func aTrickledRecordCannotStretchReceive() throws {
        let certificates = try TestCertificates.get()
        let peer = try ScriptedPeer(["trickle-record", "100"], certificates: certificates)
        let transport = try client(port: peer.port, certificates: certificates)
        try transport.open(timeoutMs: 10_000)
        #expect(peer.readLine() == "handshake-ok")
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1_024, alignment: 1)
        defer { buffer.deallocate() }
        for _ in 0..<2 {
            let start = ContinuousClock.now
            // No whole record arrives before the deadline: nothing to return, connection kept.
            #expect(try transport.receive(into: buffer, timeoutMs: Self.deadlineMs) == 0)
            #expect(ContinuousClock.now - start < Self.generousBound)
            #expect(transport.isOpen)
        }
    }

    @Test func aSlowReaderCannotStretchSend() throws {
        let certificates = try TestCertificates.get()
        let peer = try ScriptedPeer(["slow-reader"], certificates: certificates)
        let transport = try client(port: peer.port, certificates: certificates)
        try transport.open(timeoutMs: 10_000)
        #expect(peer.readLine() == "handshake-ok")
        // 64 MB at ~13 MB/s takes about 5 s (socket buffers hold a few MB): far more than the
        // deadline, while every wait for buffer space is far shorter than it. Without a
        // whole-call deadline the send completes and the test fails.
        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 20, alignment: 1)
        defer { payload.deallocate() }
        payload.initializeMemory(as: UInt8.self, repeating: 0x42)
        let start = ContinuousClock.now
        #expect(throws: TransportError.timeout) { try transport.send(UnsafeRawBufferPointer(payload), timeoutMs: Self.deadlineMs) }
        #expect(ContinuousClock.now - start < Self.generousBound)
        #expect(!transport.isOpen) // a record cut by the deadline leaves the stream unusable
    }

    @Test func theResolverIsCappedAtTwoSecondsAndTwoAttempts() {
        // docs/reliability.md, "Deadlines": glibc's resolver waits at most 2 s per server and try, 2 tries.
        var timeout: Int32 = 0, attempts: Int32 = 0
        #expect(tp_resolver_bounds(&timeout, &attempts) == Int32(TP_OK))
        #expect((1...2).contains(timeout))
        #expect((1...2).contains(attempts))
    }

    @Test func deadlineArithmeticSaturates() {
        #expect(tp_deadline_after(-1) == UInt64.max)
        #expect(tp_remaining_ms(UInt64.max) == -1)
        #expect(tp_remaining_ms(0) == 0)
        #expect(tp_remaining_ms(UInt64.max - 1) == Int32.max)
        let deadline = tp_deadline_after(Int32.max)
        #expect(deadline > tp_monotonic_ms())
        #expect(tp_remaining_ms(deadline) > 0)
    }
}
