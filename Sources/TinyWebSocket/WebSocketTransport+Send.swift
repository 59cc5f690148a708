import CTinyPlatform
import TinyPlatform

extension WebSocketTransport {
    /// Sends `bytes` as binary frames (as many as the frame buffer needs), each masked with a
    /// fresh random key, all within `timeoutMs`. A failure drops the connection: the server may
    /// have received part of a frame.
    ///
    /// - Parameters:
    ///   - bytes: The bytes (an MQTT packet, or several).
    ///   - timeoutMs: The deadline of the whole call, in milliseconds.
    /// - Throws: `notConnected` when closed, or the inner transport's failure (`.timeout`...).
    public func send(_ bytes: UnsafeRawBufferPointer, timeoutMs: Int32) throws(TransportError) {
        guard established else { throw .notConnected }
        let deadline = tp_deadline_after(max(0, timeoutMs))
        let room = frame.count - WebSocketFrameEncoder.headerLength(payloadLength: frame.count)
        var offset = 0
        while offset < bytes.count {
            let count = min(room, bytes.count - offset)
            let chunk = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
            try sendFrame(.binary, payload: chunk, deadline: deadline)
            offset += count
        }
    }

    /// Encodes one frame into the frame buffer and sends it; drops the connection on failure.
    func sendFrame(_ opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer, deadline: UInt64) throws(TransportError) {
        let length: Int
        do throws(WebSocketFrameError) {
            length = try WebSocketFrameEncoder.encode(opcode: opcode, payload: payload, mask: Self.random32(), into: frame)
        } catch {
            // Cannot happen: callers size payloads to the buffer and control payloads to 125 bytes.
            drop()
            throw .invalidConfiguration("a WebSocket frame did not fit the frame buffer")
        }
        do throws(TransportError) {
            try inner.send(UnsafeRawBufferPointer(rebasing: frame[0..<length]), timeoutMs: Self.remaining(deadline))
        } catch {
            drop()
            throw error
        }
    }

    /// Ends the connection without a close handshake.
    func drop() {
        established = false
        inner.close()
    }

    /// Sends a close frame with `status` (best effort) and, with `awaitReply`, reads until the
    /// server's close frame arrives, the connection ends or `deadline` passes. Data that
    /// arrives meanwhile is discarded. Leaves the inner transport open (the caller closes it).
    func closeHandshake(status: UInt16, deadline: UInt64, awaitReply: Bool) {
        var code: (UInt8, UInt8) = (UInt8(truncatingIfNeeded: status >> 8), UInt8(truncatingIfNeeded: status))
        let length: Int? = withUnsafeBytes(of: &code) { payload in
            try? WebSocketFrameEncoder.encode(opcode: .close, payload: payload, mask: Self.random32(), into: frame)
        }
        guard let length, (try? inner.send(UnsafeRawBufferPointer(rebasing: frame[0..<length]),
                                           timeoutMs: Self.remaining(deadline))) != nil else { return }
        guard awaitReply else { return }
        var scratch: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { sink in
            while true {
                if pendingStart == pendingEnd {
                    let wait = Self.remaining(deadline)
                    guard wait > 0, inner.isOpen,
                          let n = try? inner.receive(into: received, timeoutMs: wait), n > 0, n <= received.count else { return }
                    pendingStart = 0
                    pendingEnd = n
                }
                let input = UnsafeRawBufferPointer(rebasing: received[pendingStart..<pendingEnd])
                guard let result = try? decoder.decode(input, into: sink) else { return }
                pendingStart += result.consumed
                if result.event == .close {
                    lastCloseStatus = decoder.closeStatus
                    return
                }
            }
        }
    }
}
