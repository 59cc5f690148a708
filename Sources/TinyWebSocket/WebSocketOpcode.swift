/// The frame opcodes of RFC 6455 §5.2 that a client meets. MQTT travels in binary frames only.
public enum WebSocketOpcode: UInt8, Sendable {
    /// The next frame of a fragmented message (0x0).
    case continuation = 0x0
    /// UTF-8 text (0x1): never used by MQTT, refused when received.
    case text = 0x1
    /// Binary data (0x2): MQTT packets.
    case binary = 0x2
    /// Close (0x8), with an optional 2-byte status code and reason.
    case close = 0x8
    /// Ping (0x9): the peer expects a pong with the same payload.
    case ping = 0x9
    /// Pong (0xA): the answer to a ping, or an unsolicited heartbeat.
    case pong = 0xA

    /// Whether this is a control frame (close, ping, pong): at most 125 bytes, never fragmented.
    public var isControl: Bool { rawValue & 0x8 != 0 }
}
