/// Unacknowledged QoS 1 PUBLISH packets, kept encoded in a caller-owned byte arena.
///
/// The arena is used as a ring in send order: a new packet goes after the newest one,
/// and space is reclaimed once the oldest live packet is acknowledged. Slots are not a
/// ring: PUBACKs may arrive in any order and free their slot at once. Resends go out in
/// the original send order, as MQTT 3.1.1 §4.6 requires.
struct InflightWindow {
    private let arena: UnsafeMutableRawBufferPointer
    private let slots: UnsafeMutableBufferPointer<MQTTInflightSlot>
    private var nextSequence: UInt64 = 1
    private(set) var unacknowledged = 0

    init(arena: UnsafeMutableRawBufferPointer, slots: UnsafeMutableBufferPointer<MQTTInflightSlot>) {
        self.arena = arena
        self.slots = slots
    }

    var capacity: Int { slots.count }
    var arenaCapacity: Int { arena.count }

    /// Index of the live slot with the smallest sequence greater than `after`.
    func nextInOrder(after sequence: UInt64) -> Int? {
        var best: Int? = nil
        for i in slots.indices where slots[i].packetID != 0 && slots[i].sequence > sequence {
            if best == nil || slots[i].sequence < slots[best!].sequence { best = i }
        }
        return best
    }

    private func newest() -> Int? {
        var best: Int? = nil
        for i in slots.indices where slots[i].packetID != 0 {
            if best == nil || slots[i].sequence > slots[best!].sequence { best = i }
        }
        return best
    }

    /// Where a packet of `length` bytes would go in the arena, or nil if it is full.
    private func placement(for length: Int) -> Int? {
        guard unacknowledged < slots.count, length <= arena.count else { return nil }
        guard let oldest = nextInOrder(after: 0), let newest = newest() else { return 0 }
        let start = slots[oldest].offset
        let tail = slots[newest].offset + slots[newest].length
        if slots[newest].offset >= start {
            // Live span is [start, tail): room after it, or from 0 up to start.
            if arena.count - tail >= length { return tail }
            return length <= start ? 0 : nil
        }
        // Live span wraps: [start, end) + [0, tail); room is [tail, start).
        return start - tail >= length ? tail : nil
    }

    /// Whether a packet of `length` bytes fits now.
    func canAppend(length: Int) -> Bool { placement(for: length) != nil }

    /// Reserves `length` bytes for packet `packetID`. Returns the slot and the bytes to
    /// encode the packet into, or nil when the window or the arena is full.
    mutating func append(packetID: UInt16, length: Int) -> (slot: Int, bytes: UnsafeMutableRawBufferPointer)? {
        guard let offset = placement(for: length) else { return nil }
        var free = 0
        while slots[free].packetID != 0 { free += 1 } // placement checked a slot is free
        slots[free] = MQTTInflightSlot()
        slots[free].packetID = packetID
        slots[free].sequence = nextSequence
        slots[free].offset = offset
        slots[free].length = length
        nextSequence += 1
        unacknowledged += 1
        return (free, UnsafeMutableRawBufferPointer(rebasing: arena[offset..<(offset + length)]))
    }

    /// Frees a slot (used when encoding into it failed).
    mutating func remove(slot: Int) {
        guard slots[slot].packetID != 0 else { return }
        slots[slot].packetID = 0
        unacknowledged -= 1
    }

    /// Whether `packetID` is in flight.
    func contains(_ packetID: UInt16) -> Bool {
        for slot in slots where slot.packetID == packetID && packetID != 0 { return true }
        return false
    }

    /// Frees the slot of `packetID`. Returns false for an id not in flight.
    mutating func acknowledge(_ packetID: UInt16) -> Bool {
        guard packetID != 0 else { return false }
        for i in slots.indices where slots[i].packetID == packetID {
            remove(slot: i)
            return true
        }
        return false
    }

    /// The encoded packet in `slot`, marked sent. If it had been sent before, its DUP flag
    /// is set first (§3.3.1.1: DUP=1 on a re-delivery attempt).
    mutating func packetForSending(slot: Int) -> UnsafeRawBufferPointer {
        let offset = slots[slot].offset
        if slots[slot].sent { arena[offset] |= 0x08 }
        slots[slot].sent = true
        return UnsafeRawBufferPointer(rebasing: arena[offset..<(offset + slots[slot].length)])
    }

    /// Sequence number of `slot` (send order).
    func sequence(of slot: Int) -> UInt64 { slots[slot].sequence }
}
