/// Why a WebSocket frame could not be encoded or decoded. Every malformed frame a server
/// could send maps to one case; none of them traps (RFC 6455 §5.2, §5.4, §5.5, §7.4.1).
public enum WebSocketFrameError: Error, Equatable, Sendable {
    /// An opcode RFC 6455 reserves (0x3-0x7, 0xB-0xF), with its value.
    case unknownOpcode(UInt8)
    /// RSV1, RSV2 or RSV3 was set, yet no extension was negotiated.
    case reservedBitsSet
    /// The server masked a frame; servers must not (§5.1).
    case maskedServerFrame
    /// A close, ping or pong frame declared more than 125 payload bytes (§5.5).
    case controlFrameTooLong
    /// A close, ping or pong frame had FIN clear (§5.5: control frames are never fragmented).
    case fragmentedControlFrame
    /// A data frame declared more bytes than the configured maximum.
    case frameTooLong
    /// A 64-bit payload length had its most significant bit set (§5.2).
    case lengthTopBitSet
    /// A length was not written in the fewest bytes (§5.2: "the minimal number of bytes MUST be used").
    case nonMinimalLength
    /// A text frame: MQTT over WebSockets uses binary frames only.
    case textFrame
    /// A continuation frame arrived while no fragmented message was in progress.
    case unexpectedContinuation
    /// A new binary frame began while a fragmented message still waited for its continuation.
    case expectedContinuation
    /// A close frame carried exactly one payload byte (a status code takes two, §5.5.1).
    case invalidClosePayload
    /// The output buffer cannot hold the encoded frame.
    case bufferTooSmall
}
