import Foundation
import Testing
import TinyPlatform
import TinyWebSocket

/// `WebSocketTransport` over a scripted inner transport playing the server: the upgrade, the
/// framing of what the client sends, the stream it presents, control frames, and every way the
/// server can break the rules. Expected bytes come from RFC 6455, not from the code under test.
@Suite struct TransportTests {
    @Test(arguments: [false, true])
    func upgradeRequestAsIoTHubWantsIt(x509: Bool) throws {
        let inner = ScriptedInner()
        let transport = try makeTransport(inner, x509: x509)
        #expect(transport.isOpen && inner.opens == 1)
        let request = String(decoding: inner.sent[0], as: UTF8.self)
        let target = x509 ? "/$iothub/websocket" : "/$iothub/websocket?iothub-no-client-cert=true"
        #expect(request.hasPrefix("GET \(target) HTTP/1.1\r\nHost: hub.azure-devices.net\r\n"), "\(request)")
        #expect(request.hasSuffix("\r\n\r\n"))
        #expect(ScriptedInner.header("Upgrade", in: inner.sent[0]) == "websocket")
        #expect(ScriptedInner.header("Connection", in: inner.sent[0]) == "Upgrade")
        #expect(ScriptedInner.header("Sec-WebSocket-Version", in: inner.sent[0]) == "13")
        #expect(ScriptedInner.header("Sec-WebSocket-Protocol", in: inner.sent[0]) == "mqtt")
        let key = try #require(ScriptedInner.header("Sec-WebSocket-Key", in: inner.sent[0]))
        #expect(Data(base64Encoded: key)?.count == 16, "§4.1: 16 random bytes, base64")
        // Reconnecting runs a new handshake with a new key.
        try transport.open(timeoutMs: 1_000)
        let requests = inner.sent.filter { $0.starts(with: Array("GET ".utf8)) }
        #expect(requests.count == 2 && inner.opens == 2)
        #expect(ScriptedInner.header("Sec-WebSocket-Key", in: requests[1]) != key)
    }

    @Test func eachSendIsOneMaskedBinaryFrameWithAFreshMask() throws {
        let inner = ScriptedInner()
        let transport = try makeTransport(inner)
        let packets: [[UInt8]] = (0..<100).map { i in [0x30, 0x03, 0x00, 0x01, UInt8(i)] }
        for packet in packets { try packet.send(on: transport) }
        let frames = inner.frames
        #expect(frames.count == 100)
        #expect(frames.allSatisfy { $0.fin && $0.opcode == 0x2 && $0.masked })
        #expect(frames.map(\.payload) == packets)
        // 100 keys from getrandom(): a repeat has a probability of about 1e-6.
        #expect(Set(frames.map(\.mask)).count == 100, "a fresh masking key per frame (§5.3)")
    }

    @Test func aSendLargerThanTheFrameBufferLeavesAsSeveralFrames() throws {
        let inner = ScriptedInner()
        let transport = try makeTransport(inner, frameBuffer: 512)
        let packet = (0..<1_300).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        try packet.send(on: transport)
        let frames = inner.frames
        #expect(frames.count == 3)
        #expect(frames.allSatisfy { $0.fin && $0.opcode == 0x2 && $0.masked && inner.sent.allSatisfy { $0.count <= 512 } })
        #expect(frames.flatMap(\.payload) == packet)
    }

    /// Server bytes with packets spanning frames, frames holding several packets, a fragmented
    /// message with a ping inside, pongs and empty frames, delivered at every split.
    @Test func inboundStreamAtEverySplit() throws {
        let stream: [UInt8] = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
        let server = serverFrame(0x2, Array(stream[0..<3]))
            + serverFrame(0xA, [])
            + serverFrame(0x2, Array(stream[3..<130]), fin: false)
            + serverFrame(0x9, [1, 2, 3])
            + serverFrame(0x0, Array(stream[130..<131]), fin: false)
            + serverFrame(0x0, [], fin: true)
            + serverFrame(0x2, [])
            + serverFrame(0x2, Array(stream[131...]))
            + serverFrame(0x9, [])
        for split in 1...server.count {
            let inner = ScriptedInner()
            inner.afterUpgrade = stride(from: 0, to: server.count, by: split).map { Array(server[$0..<min($0 + split, server.count)]) }
            let transport = try makeTransport(inner)
            let got = try receiveAll(transport, count: stream.count + 1, chunk: split % 3 == 0 ? 1 : 64)
            #expect(got == stream, "split \(split)")
            #expect(inner.frames.map { "\($0.opcode) \($0.payload)" } == ["10 [1, 2, 3]", "10 []"], "pongs, split \(split)")
            #expect(inner.frames.allSatisfy { $0.masked })
            #expect(transport.isOpen)
        }
    }

    @Test func bytesInTheSameReadAsTheUpgradeAnswerAreNotLost() throws {
        let inner = ScriptedInner()
        inner.upgradeAnswer = { key in ScriptedInner.okAnswer(key: key) + serverFrame(0x2, [0x20, 0x02, 0x00, 0x00]) }
        let transport = try makeTransport(inner)
        #expect(try receiveAll(transport, count: 4) == [0x20, 0x02, 0x00, 0x00])
    }

    @Test func serverCloseIsAnsweredAndEndsTheConnection() throws {
        let inner = ScriptedInner()
        inner.afterUpgrade = [serverFrame(0x2, [1, 2]) + serverFrame(0x8, [0x03, 0xE9, 0x62, 0x79, 0x65])]
        let transport = try makeTransport(inner)
        #expect(try receiveAll(transport, count: 2) == [1, 2])
        var buffer = [UInt8](repeating: 0, count: 8)
        #expect(throws: TransportError.closed) { try buffer.withUnsafeMutableBytes { _ = try transport.receive(into: $0, timeoutMs: 0) } }
        #expect(transport.lastCloseStatus == 1001)
        #expect(inner.frames.last?.opcode == 0x8 && inner.frames.last?.masked == true)
        #expect(inner.frames.last?.payload == [0x03, 0xE9], "§5.5.1: the close echoes the status")
        #expect(!transport.isOpen && !inner.isOpen)
        #expect(throws: TransportError.notConnected) { try [1].send(on: transport) }
    }

    @Test func closeRunsTheCloseHandshake() throws {
        let inner = ScriptedInner()
        let transport = try makeTransport(inner)
        inner.inbound.append(serverFrame(0x2, [9, 9, 9])) // data still in flight is discarded
        transport.close()
        #expect(inner.frames.last?.opcode == 0x8 && inner.frames.last?.payload == [0x03, 0xE8])
        #expect(inner.inbound.isEmpty, "the server's close frame was read")
        #expect(transport.lastCloseStatus == 1000)
        #expect(!transport.isOpen && inner.closes == 1)
        transport.close() // again: nothing sent
        #expect(inner.frames.count == 1)
    }

    @Test func aServerThatNeverAnswersTheCloseIsWaitedForBoundedly() throws {
        let inner = ScriptedInner()
        inner.closeReply = nil
        let transport = try makeTransport(inner)
        let start = ContinuousClock.now
        transport.close()
        #expect(ContinuousClock.now - start < .seconds(30), "bounded (1 s by design; generous bound against a hang)")
        #expect(inner.closes == 1)
    }

    static let hostile: [(String, [UInt8], WebSocketFrameError)] = [
        ("masked", [0x82, 0x81, 1, 2, 3, 4, 5], .maskedServerFrame),
        ("rsv1", [0xC2, 0x00], .reservedBitsSet),
        ("rsv3", [0x92, 0x00], .reservedBitsSet),
        ("opcode 3", [0x83, 0x00], .unknownOpcode(3)),
        ("opcode 0xB", [0x8B, 0x00], .unknownOpcode(0xB)),
        ("text", [0x81, 0x01, 0x41], .textFrame),
        ("long ping", [0x89, 0x7E, 0x00, 0x7E] + [UInt8](repeating: 0, count: 126), .controlFrameTooLong),
        ("fragmented ping", [0x09, 0x00], .fragmentedControlFrame),
        ("lonely continuation", [0x80, 0x01, 0x00], .unexpectedContinuation),
        ("binary inside a fragmented message", [0x02, 0x00, 0x82, 0x00], .expectedContinuation),
        ("non-minimal 16", [0x82, 0x7E, 0x00, 0x05], .nonMinimalLength),
        ("non-minimal 64", [0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF], .nonMinimalLength),
        ("top bit", [0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0], .lengthTopBitSet),
        ("close with one byte", [0x88, 0x01, 0x03], .invalidClosePayload),
        ("oversize", [0x82, 0x7F, 0, 0, 0, 0, 0x40, 0, 0, 0], .frameTooLong),
    ]

    @Test(arguments: 0..<hostile.count)
    func hostileFrameIsATypedErrorAndEndsTheConnection(index: Int) throws {
        let (name, bytes, expected) = Self.hostile[index]
        let inner = ScriptedInner()
        inner.afterUpgrade = [serverFrame(0x2, [7]) + bytes]
        let transport = try makeTransport(inner)
        var got: [UInt8] = []
        var failure: TransportError? = nil
        var buffer = [UInt8](repeating: 0, count: 64)
        for _ in 0..<4 where failure == nil {
            do {
                let n = try buffer.withUnsafeMutableBytes { try transport.receive(into: $0, timeoutMs: 0) }
                got += buffer[0..<n]
            } catch { failure = error as? TransportError }
        }
        #expect(got == [7], "\(name): data before the bad frame is delivered")
        #expect(failure == .webSocketProtocolViolation, "\(name)")
        #expect(transport.lastFrameError == expected, "\(name)")
        #expect(!transport.isOpen && !inner.isOpen, "\(name)")
        let close = try #require(inner.frames.last, "\(name)")
        #expect(close.opcode == 0x8 && close.masked, "\(name)")
        #expect(close.payload == (expected == .frameTooLong ? [0x03, 0xF1] : [0x03, 0xEA]), "\(name): 1009 or 1002")
        // A new connection starts clean.
        try transport.open(timeoutMs: 1_000)
        #expect(transport.isOpen && transport.lastFrameError == nil)
    }

    @Test(arguments: [(404, true), (403, true), (401, true), (429, false), (503, false), (200, false), (302, false)])
    func upgradeRefusals(status: Int, permanent: Bool) throws {
        let inner = ScriptedInner()
        inner.upgradeAnswer = { _ in Array("HTTP/1.1 \(status) Nope\r\nContent-Length: 5000\r\n\r\nbody".utf8) }
        let transport = try makeTransport(inner, open: false)
        #expect(throws: TransportError.webSocketUpgradeRefused(status: status)) { try transport.open(timeoutMs: 1_000) }
        #expect(TransportError.webSocketUpgradeRefused(status: status).isRefusal == permanent)
        #expect(!transport.isOpen && !inner.isOpen)
    }

    static let invalidAnswers: [(String, @Sendable (String) -> String)] = [
        ("garbage", { _ in "SSH-2.0-OpenSSH\r\n\r\n" }),
        ("wrong accept", { _ in "HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n" }),
        ("no accept", { _ in "HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n" }),
        ("no subprotocol", { key in "HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: \(ScriptedInner.accept(for: key))\r\n\r\n" }),
        ("other subprotocol", { key in "HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: \(ScriptedInner.accept(for: key))\r\nSec-WebSocket-Protocol: amqp\r\n\r\n" }),
        ("no upgrade", { key in "HTTP/1.1 101 S\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: \(ScriptedInner.accept(for: key))\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n" }),
        ("head larger than the buffer", { key in "HTTP/1.1 101 S\r\nX-Pad: \(String(repeating: "p", count: 600))\r\n"
            + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: \(ScriptedInner.accept(for: key))\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n" }),
    ]

    @Test(arguments: 0..<invalidAnswers.count)
    func invalidUpgradeAnswers(index: Int) throws {
        let (name, answer) = Self.invalidAnswers[index]
        let inner = ScriptedInner()
        inner.upgradeAnswer = { Array(answer($0).utf8) }
        let transport = try makeTransport(inner, open: false)
        #expect(throws: TransportError.webSocketUpgradeInvalid, "\(name)") { try transport.open(timeoutMs: 1_000) }
        #expect(!transport.isOpen && !inner.isOpen, "\(name)")
        #expect(!TransportError.webSocketUpgradeInvalid.isRefusal)
    }

    @Test(arguments: [1, 2, 7, 50])
    func theAnswerIsAcceptedAtEverySplit(step: Int) throws {
        let inner = ScriptedInner()
        inner.upgradeAnswer = { key in
            Array("HTTP/1.1 100 Continue\r\n\r\n".utf8) + ScriptedInner.okAnswer(key: key, extra: "Server: x\r\n")
                + serverFrame(0x2, [5, 6])
        }
        let transport = try WebSocketTransport(over: SplittingInner(inner, step: step), configuration: WebSocketConfiguration(host: "h"))
        try transport.open(timeoutMs: 1_000)
        #expect(transport.isOpen)
        var got = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 8)
        for _ in 0..<8 where got.count < 2 {
            let n = try buffer.withUnsafeMutableBytes { try transport.receive(into: $0, timeoutMs: 0) }
            got += buffer[0..<n]
        }
        #expect(got == [5, 6])
    }

    @Test func anUnansweredUpgradeTimesOut() throws {
        let inner = ScriptedInner()
        inner.upgradeAnswer = nil
        let transport = try makeTransport(inner, open: false)
        #expect(throws: TransportError.timeout) { try transport.open(timeoutMs: 50) }
        #expect(!inner.isOpen)
    }

    @Test func innerFailuresPassThroughAndEndTheConnection() throws {
        let inner = ScriptedInner()
        inner.openError = .connectionRefused
        let transport = try makeTransport(inner, open: false)
        #expect(throws: TransportError.connectionRefused) { try transport.open(timeoutMs: 1_000) }
        inner.openError = nil
        try transport.open(timeoutMs: 1_000)
        inner.endError = .truncated
        var buffer = [UInt8](repeating: 0, count: 8)
        #expect(throws: TransportError.truncated) { try buffer.withUnsafeMutableBytes { _ = try transport.receive(into: $0, timeoutMs: 0) } }
        #expect(!transport.isOpen)
        inner.endError = nil
        try transport.open(timeoutMs: 1_000)
        inner.sendError = .io(errno: 32)
        #expect(throws: TransportError.io(errno: 32)) { try [1, 2].send(on: transport) }
        #expect(!transport.isOpen)
    }

    @Test func configurationIsChecked() {
        #expect(throws: TransportError.self) { try makeTransport(frameBuffer: 511, open: false) }
        #expect(throws: TransportError.self) { try makeTransport(receiveBuffer: 100, open: false) }
        #expect(throws: TransportError.self) { try makeTransport(host: "", open: false) }
        do {
            _ = try makeTransport(host: "bad host\r\n", open: true)
            Issue.record("a host with CR LF went into a request")
        } catch {
            guard case .invalidConfiguration? = error as? TransportError else { Issue.record("\(error)"); return }
        }
    }
}

/// Hands the wrapped transport's inbound bytes over at most `step` bytes per receive.
final class SplittingInner: Transport {
    let wrapped: ScriptedInner
    let step: Int
    init(_ wrapped: ScriptedInner, step: Int) { self.wrapped = wrapped; self.step = step }
    var isOpen: Bool { wrapped.isOpen }
    func open(timeoutMs: Int32) throws(TransportError) { try wrapped.open(timeoutMs: timeoutMs) }
    func send(_ bytes: UnsafeRawBufferPointer, timeoutMs: Int32) throws(TransportError) { try wrapped.send(bytes, timeoutMs: timeoutMs) }
    func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMs: Int32) throws(TransportError) -> Int {
        guard buffer.count > 0 else { return 0 }
        return try wrapped.receive(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(step, buffer.count)]), timeoutMs: timeoutMs)
    }
    func close() { wrapped.close() }
}
