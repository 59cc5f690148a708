/// One entry of the in-flight window: where an unacknowledged QoS 1 PUBLISH lives in
/// the arena. Storage for these is caller-owned, like the arena itself.
public struct MQTTInflightSlot {
    // Field order packs the 16-bit fields and the flag into one 8-byte word (32 bytes a slot).
    var packetID: UInt16 = 0      // 0: the slot is free
    var previous: UInt16 = 0xFFFF // live: the slot sent just before (InflightWindow.none: oldest)
    var next: UInt16 = 0xFFFF     // live: the slot sent just after; free: next free slot
    var sent = false
    var sequence: UInt64 = 0      // send order
    var offset = 0
    var length = 0

    /// An empty slot.
    public init() {}
}

/// The memory an `MQTTSession` works in, sized and owned by the application. Nothing
/// else is allocated by the session after it is created.
///
/// - `transmit` holds one outgoing packet that needs no resend (CONNECT, QoS 0 PUBLISH,
///   SUBSCRIBE...): size it for the largest of those.
/// - `receive` holds inbound packets; a larger one is drained and reported.
/// - `inflightArena` holds encoded QoS 1 PUBLISH packets until their PUBACK, so they can
///   be resent after a reconnect; `inflightSlots.count` is the in-flight window.
///
/// ```swift
/// guard let buffers = MQTTBuffers.allocate(transmit: 1_024, receive: 1_024, inflightBytes: 4_096, inflightWindow: 16) else {
///     /* out of memory */
/// }
/// defer { buffers.deallocate() }   // after the session that uses them is gone
/// ```
public struct MQTTBuffers {
    /// Outgoing packets that are not kept for resend.
    public var transmit: UnsafeMutableRawBufferPointer
    /// Inbound packets.
    public var receive: UnsafeMutableRawBufferPointer
    /// Encoded QoS 1 PUBLISH packets awaiting PUBACK.
    public var inflightArena: UnsafeMutableRawBufferPointer
    /// Book-keeping for the arena: one slot per message in flight.
    public var inflightSlots: UnsafeMutableBufferPointer<MQTTInflightSlot>

    /// Wraps memory the caller already owns (static arrays, a linker section...).
    ///
    /// - Parameters:
    ///   - transmit: where outgoing packets other than QoS 1 PUBLISHes are encoded.
    ///   - receive: where incoming packets are assembled (the largest packet accepted).
    ///   - inflightArena: where QoS 1 PUBLISHes wait for their PUBACK.
    ///   - inflightSlots: one slot per message in flight (the window).
    public init(transmit: UnsafeMutableRawBufferPointer, receive: UnsafeMutableRawBufferPointer,
                inflightArena: UnsafeMutableRawBufferPointer, inflightSlots: UnsafeMutableBufferPointer<MQTTInflightSlot>) {
        self.transmit = transmit
        self.receive = receive
        self.inflightArena = inflightArena
        self.inflightSlots = inflightSlots
    }

    /// Allocates all buffers once, at start-up; nil when memory ran out (Embedded Swift's
    /// `allocate` returns null rather than trapping). Release them with `deallocate()`
    /// after the session is gone.
    ///
    /// - Parameters:
    ///   - transmit: bytes for outgoing packets.
    ///   - receive: bytes for the largest incoming packet.
    ///   - inflightBytes: bytes for QoS 1 messages awaiting their PUBACK.
    ///   - inflightWindow: how many messages may be in flight.
    /// - Returns: the buffers, or nil when memory ran out.
    public static func allocate(transmit: Int, receive: Int, inflightBytes: Int, inflightWindow: Int) -> MQTTBuffers? {
        let slots = UnsafeMutableBufferPointer<MQTTInflightSlot>.allocate(capacity: max(1, inflightWindow))
        let buffers = MQTTBuffers(
            transmit: .allocate(byteCount: transmit, alignment: 8),
            receive: .allocate(byteCount: receive, alignment: 8),
            inflightArena: .allocate(byteCount: inflightBytes, alignment: 8),
            inflightSlots: slots)
        guard buffers.transmit.baseAddress != nil, buffers.receive.baseAddress != nil,
              buffers.inflightArena.baseAddress != nil, slots.baseAddress != nil else {
            buffers.deallocate()
            return nil
        }
        slots.initialize(repeating: MQTTInflightSlot())
        return buffers
    }

    /// Frees buffers made by `allocate`.
    public func deallocate() {
        transmit.deallocate()
        receive.deallocate()
        inflightArena.deallocate()
        inflightSlots.deallocate()
    }
}
