/// A control frame the decoder completed; its payload is in `WebSocketFrameDecoder.controlPayload`.
public enum WebSocketControlEvent: Equatable, Sendable {
    /// Answer with a pong carrying the same payload (§5.5.2).
    case ping
    /// Nothing to do (§5.5.3).
    case pong
    /// Answer with a close, then the connection is over (§5.5.1).
    case close
}

/// What one `decode` call did.
public struct WebSocketDecodeResult: Equatable, Sendable {
    /// Input bytes used; feed the rest again.
    public var consumed: Int
    /// Application bytes (binary and continuation payloads) written to the output buffer.
    public var produced: Int
    /// A control frame completed by this call (decoding stops right after it).
    public var event: WebSocketControlEvent?

    /// A result (public so callers and tests can compare against one written out).
    ///
    /// - Parameters:
    ///   - consumed: input bytes used.
    ///   - produced: application bytes written.
    ///   - event: the control frame completed, if any.
    public init(consumed: Int, produced: Int, event: WebSocketControlEvent? = nil) {
        self.consumed = consumed
        self.produced = produced
        self.event = event
    }
}

/// Decodes server frames incrementally (RFC 6455 §5.2): any split of the input gives the same
/// result. Binary and continuation payloads come out as one byte stream, which is what MQTT
/// needs (a packet may span frames, a frame may hold several packets). Control frames are
/// gathered in a 125-byte buffer and reported one at a time. A call returns at the end of a data
/// frame that produced bytes, so the next frame's error comes with the next call. Every
/// malformed header is a typed error; after one, the decoder keeps reporting it (the
/// connection must be dropped).
///
/// ```swift
/// var decoder = WebSocketFrameDecoder(maxFrameLength: 1 << 20)
/// let result = try decoder.decode(received, into: stream)
/// // stream[0..<result.produced] holds application bytes; result.event a completed ping, pong or close
/// ```
public struct WebSocketFrameDecoder {
    private enum State {
        case first, second, extendedLength(left: Int), payload
    }

    /// The largest data frame payload accepted; a longer one is `frameTooLong`.
    public let maxFrameLength: UInt64
    private var state = State.first
    private var fin = false
    private var opcode = WebSocketOpcode.binary
    private var lengthCode: UInt8 = 0
    private var length: UInt64 = 0
    private var remaining: UInt64 = 0
    private var inMessage = false
    private var control: [UInt8]
    private var controlCount = 0
    private var failure: WebSocketFrameError?

    /// A decoder refusing data frames longer than `maxFrameLength` bytes.
    ///
    /// - Parameter maxFrameLength: the longest data frame accepted, in bytes.
    public init(maxFrameLength: UInt64) {
        self.maxFrameLength = maxFrameLength
        control = [UInt8](repeating: 0, count: 125)
    }

    /// Forgets any partly decoded frame, fragmented message and earlier error, for a new
    /// connection. Keeps the control-frame buffer (no allocation).
    public mutating func reset() {
        state = .first
        inMessage = false
        controlCount = 0
        remaining = 0
        failure = nil
    }

    /// The payload of the control frame the last event reported (valid until the next `decode`).
    public var controlPayload: ArraySlice<UInt8> { control[0..<controlCount] }

    /// Copies the payload of the control frame the last event reported into `out` (as much as
    /// fits; 125 bytes always do). No allocation, unlike `controlPayload`.
    ///
    /// - Parameter out: Where the payload goes.
    /// - Returns: The number of bytes copied.
    public func copyControlPayload(into out: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(controlCount, out.count)
        var i = 0
        while i < count {
            out[i] = control[i]
            i += 1
        }
        return count
    }

    /// The status code of the last close frame, if it carried one.
    public var closeStatus: UInt16? {
        controlCount >= 2 ? UInt16(control[0]) << 8 | UInt16(control[1]) : nil
    }

    /// Whether no frame is partly decoded (a clean point to end the stream).
    public var isAtFrameBoundary: Bool {
        if case .first = state { return !inMessage }
        return false
    }

    /// Decodes from `input`, writing application bytes to `output`, until the input is used up,
    /// the output is full while payload remains, or a control frame completes.
    ///
    /// - Parameters:
    ///   - input: bytes received from the server.
    ///   - output: where application bytes go.
    /// - Returns: what was consumed and produced, and any control event.
    /// - Throws: `WebSocketFrameError` for a frame RFC 6455 forbids or one over `maxFrameLength`.
    public mutating func decode(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws(WebSocketFrameError) -> WebSocketDecodeResult {
        if let failure { throw failure }
        do {
            return try step(input, output)
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func step(
        _ input: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer
    ) throws(WebSocketFrameError) -> WebSocketDecodeResult {
        var used = 0
        var produced = 0
        while true {
            switch state {
            case .first:
                // Application bytes already produced are returned before the next frame is
                // looked at, so a malformed frame never takes the data before it down with it.
                guard used < input.count, produced == 0 else { return .init(consumed: used, produced: produced) }
                let byte = input[used]
                used += 1
                try readFirst(byte)
                state = .second
            case .second:
                guard used < input.count else { return .init(consumed: used, produced: produced) }
                let byte = input[used]
                used += 1
                try readSecond(byte)
            case .extendedLength(let left):
                guard used < input.count else { return .init(consumed: used, produced: produced) }
                length = length << 8 | UInt64(input[used])
                used += 1
                if left > 1 {
                    state = .extendedLength(left: left - 1)
                } else {
                    try lengthComplete()
                }
            case .payload:
                if remaining == 0 {
                    if let event = try frameComplete() {
                        return .init(consumed: used, produced: produced, event: event)
                    }
                    continue
                }
                let available = input.count - used
                guard available > 0 else { return .init(consumed: used, produced: produced) }
                var take = UInt64(available) < remaining ? available : Int(remaining)
                if opcode.isControl {
                    let room = control.count - controlCount
                    if take > room { take = room } // cannot happen: length <= 125 was checked
                    for i in 0..<take { control[controlCount + i] = input[used + i] }
                    controlCount += take
                } else {
                    let room = output.count - produced
                    guard room > 0 else { return .init(consumed: used, produced: produced) }
                    if take > room { take = room }
                    for i in 0..<take { output[produced + i] = input[used + i] }
                    produced += take
                }
                used += take
                remaining -= UInt64(take)
            }
        }
    }

    private mutating func readFirst(_ byte: UInt8) throws(WebSocketFrameError) {
        guard byte & 0x70 == 0 else { throw .reservedBitsSet }
        guard let code = WebSocketOpcode(rawValue: byte & 0x0F) else { throw .unknownOpcode(byte & 0x0F) }
        fin = byte & 0x80 != 0
        switch code {
        case .text: throw .textFrame
        case .continuation: if !inMessage { throw .unexpectedContinuation }
        case .binary: if inMessage { throw .expectedContinuation }
        case .close, .ping, .pong: if !fin { throw .fragmentedControlFrame }
        }
        opcode = code
    }

    private mutating func readSecond(_ byte: UInt8) throws(WebSocketFrameError) {
        guard byte & 0x80 == 0 else { throw .maskedServerFrame }
        lengthCode = byte & 0x7F
        if opcode.isControl && lengthCode > 125 { throw .controlFrameTooLong }
        length = 0
        switch lengthCode {
        case 126: state = .extendedLength(left: 2)
        case 127: state = .extendedLength(left: 8)
        default:
            length = UInt64(lengthCode)
            try lengthComplete()
        }
    }

    private mutating func lengthComplete() throws(WebSocketFrameError) {
        if lengthCode == 127 && length & (1 << 63) != 0 { throw .lengthTopBitSet }
        if (lengthCode == 126 && length < 126) || (lengthCode == 127 && length <= 0xFFFF) {
            throw .nonMinimalLength
        }
        if !opcode.isControl && length > maxFrameLength { throw .frameTooLong }
        if opcode == .close && length == 1 { throw .invalidClosePayload }
        remaining = length
        if opcode.isControl { controlCount = 0 } else { inMessage = !fin }
        state = .payload
    }

    private mutating func frameComplete() throws(WebSocketFrameError) -> WebSocketControlEvent? {
        state = .first
        switch opcode {
        case .ping: return .ping
        case .pong: return .pong
        case .close: return .close
        default: return nil
        }
    }
}
