import CTinyPlatform
import TinyPlatform

extension WebSocketTransport {
    /// Receives the next bytes of the server's binary messages into `buffer`, waiting at most
    /// `timeoutMs` for them. Control frames met on the way are handled: a ping is answered with
    /// a pong (within the same deadline), a pong ignored, a close answered with a close and
    /// the connection ended.
    ///
    /// - Parameters:
    ///   - buffer: Where the bytes go.
    ///   - timeoutMs: How long to wait, in milliseconds (0: take only what has arrived).
    /// - Returns: The number of bytes written, 0 when the deadline passed with none.
    /// - Throws: `notConnected` when closed; `.closed` after the server's close frame (its status in
    ///   `lastCloseStatus`); `webSocketProtocolViolation` for a forbidden frame (`lastFrameError`);
    ///   the inner transport's failures. Each of them ends the connection.
    public func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMs: Int32) throws(TransportError) -> Int {
        guard established else { throw .notConnected }
        guard buffer.count > 0 else { return 0 }
        let deadline = tp_deadline_after(max(0, timeoutMs))
        // Reads that bring only control frames or frame headers do not end the call while more
        // bytes are at hand; past the deadline, a few more reads at most (a server flooding
        // pings cannot hold the call).
        var readsPastDeadline = 0
        while true {
            if pendingStart == pendingEnd {
                if Self.remaining(deadline) == 0 {
                    readsPastDeadline += 1
                    if readsPastDeadline > Self.readsPastDeadline { return 0 }
                }
                let n: Int
                do throws(TransportError) {
                    n = try inner.receive(into: received, timeoutMs: Self.remaining(deadline))
                } catch {
                    drop()
                    throw error
                }
                guard n > 0 else { return 0 }
                guard n <= received.count else {
                    drop()
                    throw .invalidConfiguration("the inner transport reported more bytes than it was given room for")
                }
                pendingStart = 0
                pendingEnd = n
            }
            let produced = try unframe(into: buffer, deadline: deadline)
            if produced > 0 { return produced }
        }
    }

    /// How many reads `receive` makes after its deadline passed while each brings bytes but no data.
    static var readsPastDeadline: Int { 8 }

    /// Decodes pending input into `buffer` until it is used up, the buffer is full or a control
    /// frame completes (which is then handled). Returns the application bytes written.
    private func unframe(into buffer: UnsafeMutableRawBufferPointer, deadline: UInt64) throws(TransportError) -> Int {
        let result: WebSocketDecodeResult
        do throws(WebSocketFrameError) {
            result = try decoder.decode(UnsafeRawBufferPointer(rebasing: received[pendingStart..<pendingEnd]), into: buffer)
        } catch {
            fail(error, deadline: deadline)
            throw .webSocketProtocolViolation
        }
        pendingStart += result.consumed
        switch result.event {
        case .ping?:
            // The pong carries the ping's payload (§5.5.3), copied out of the decoder.
            var copy: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                       UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) // 128 bytes >= 125
            let count = withUnsafeMutableBytes(of: &copy) { decoder.copyControlPayload(into: $0) }
            try withUnsafeBytes(of: &copy) { (bytes) throws(TransportError) in
                try sendFrame(.pong, payload: UnsafeRawBufferPointer(rebasing: bytes[0..<count]), deadline: deadline)
            }
        case .close?:
            // §5.5.1: answer with a close echoing the status, then the connection is over.
            lastCloseStatus = decoder.closeStatus
            established = false
            closeHandshake(status: lastCloseStatus ?? 1000, deadline: deadline, awaitReply: false)
            inner.close()
            throw .closed
        case .pong?, nil:
            break
        }
        return result.produced
    }

    /// Fails the connection for a forbidden frame (§7.1.7): a close frame with 1002 (protocol
    /// error) or 1009 (message too big), then the inner transport is closed.
    private func fail(_ error: WebSocketFrameError, deadline: UInt64) {
        lastFrameError = error
        established = false
        closeHandshake(status: error == .frameTooLong ? 1009 : 1002, deadline: deadline, awaitReply: false)
        inner.close()
    }
}
