/// Unacknowledged QoS 1 PUBLISH packets, kept encoded in a caller-owned byte arena.
///
/// The arena is used as a ring in send order: a new packet goes after the newest one,
/// and space is reclaimed once the oldest live packet is acknowledged. Slots are not a
/// ring: PUBACKs may arrive in any order and free their slot at once. Resends go out in
/// the original send order, as MQTT 3.1.1 §4.6 requires.
///
/// Book-keeping is O(1) per packet: live slots form a doubly linked list in send order
/// (`oldest` ... `newest`, through `MQTTInflightSlot.previous`/`next`), free slots a
/// singly linked free list (through `next`). Looking up a packet id walks the live list
/// from the oldest, so in-order acknowledgements are found at the first step.
///
/// Invariants (checked by `InflightWindowTests`): walking `next` from `oldest` visits
/// exactly `unacknowledged` slots, all live, with increasing `sequence`, each one's
/// `previous` being the slot visited before, ending at `newest`; walking `next` from
/// `firstFree` visits the other `capacity - unacknowledged` slots, all free.
struct InflightWindow {
    /// "No slot" in the links (slot indices are 16-bit; see `capacity`).
    static let none: UInt16 = 0xFFFF

    private let arena: UnsafeMutableRawBufferPointer
    private let slots: UnsafeMutableBufferPointer<MQTTInflightSlot>
    private var nextSequence: UInt64 = 1
    private(set) var unacknowledged = 0
    /// The live slot sent first, or `none`.
    private(set) var oldest = InflightWindow.none
    /// The live slot sent last, or `none`.
    private(set) var newest = InflightWindow.none
    /// Head of the free list, or `none` when the window is full.
    private(set) var firstFree = InflightWindow.none
    /// Usable slots: all of them, up to 65,535 (more could never hold distinct packet ids).
    let capacity: Int

    /// Takes over `slots` (any stale content is cleared) and `arena`.
    init(arena: UnsafeMutableRawBufferPointer, slots: UnsafeMutableBufferPointer<MQTTInflightSlot>) {
        self.arena = arena
        self.slots = slots
        let count = min(slots.count, Int(InflightWindow.none))
        self.capacity = count
        var i = count
        while i > 0 {
            i -= 1
            slots[i] = MQTTInflightSlot()
            slots[i].next = firstFree
            firstFree = UInt16(truncatingIfNeeded: i)
        }
    }

    var arenaCapacity: Int { arena.count }

    /// The live slot sent first, or nil when nothing is in flight.
    var oldestSlot: Int? { oldest == InflightWindow.none ? nil : Int(oldest) }

    /// The live slot sent right after `slot`, or nil when `slot` is the newest.
    func slot(after slot: Int) -> Int? {
        let next = slots[slot].next
        return next == InflightWindow.none ? nil : Int(next)
    }

    /// Index of the live slot with the smallest sequence greater than `after`.
    func nextInOrder(after sequence: UInt64) -> Int? {
        var i = oldest
        while i != InflightWindow.none {
            if slots[Int(i)].sequence > sequence { return Int(i) }
            i = slots[Int(i)].next
        }
        return nil
    }

    /// Where a packet of `length` bytes would go in the arena, or nil if it is full.
    private func placement(for length: Int) -> Int? {
        guard firstFree != InflightWindow.none, length <= arena.count else { return nil }
        guard oldest != InflightWindow.none else { return 0 }
        let start = slots[Int(oldest)].offset
        let newestOffset = slots[Int(newest)].offset
        let tail = newestOffset + slots[Int(newest)].length
        if newestOffset >= start {
            // Live span is [start, tail): room after it, or from 0 up to start.
            if arena.count - tail >= length { return tail }
            return length <= start ? 0 : nil
        }
        // Live span wraps: [start, end) + [0, tail); room is [tail, start).
        return start - tail >= length ? tail : nil
    }

    /// Whether a packet of `length` bytes fits now.
    func canAppend(length: Int) -> Bool { placement(for: length) != nil }

    /// Whether a slot is free (the arena may still be too full for a given packet).
    var hasFreeSlot: Bool { firstFree != InflightWindow.none }

    /// Reserves `length` bytes for packet `packetID`. Returns the slot and the bytes to
    /// encode the packet into, or nil when the window or the arena is full.
    mutating func append(packetID: UInt16, length: Int) -> (slot: Int, bytes: UnsafeMutableRawBufferPointer)? {
        guard let offset = placement(for: length) else { return nil }
        let free = firstFree // placement checked a slot is free
        let index = Int(free)
        firstFree = slots[index].next
        slots[index] = MQTTInflightSlot()
        slots[index].packetID = packetID
        slots[index].previous = newest
        slots[index].sequence = nextSequence
        slots[index].offset = offset
        slots[index].length = length
        if newest == InflightWindow.none { oldest = free } else { slots[Int(newest)].next = free }
        newest = free
        nextSequence += 1
        unacknowledged += 1
        return (index, UnsafeMutableRawBufferPointer(rebasing: arena[offset..<(offset + length)]))
    }

    /// Frees a slot (used when encoding into it failed, and by `acknowledge`).
    mutating func remove(slot: Int) {
        guard slots[slot].packetID != 0 else { return }
        let previous = slots[slot].previous
        let next = slots[slot].next
        if previous == InflightWindow.none { oldest = next } else { slots[Int(previous)].next = next }
        if next == InflightWindow.none { newest = previous } else { slots[Int(next)].previous = previous }
        slots[slot].packetID = 0
        slots[slot].previous = InflightWindow.none
        slots[slot].next = firstFree
        firstFree = UInt16(truncatingIfNeeded: slot)
        unacknowledged -= 1
    }

    /// Frees every live slot (messages the application no longer wants sent).
    mutating func removeAll() {
        while let slot = oldestSlot { remove(slot: slot) }
    }

    /// The live slot holding `packetID`, searched from the oldest.
    private func find(_ packetID: UInt16) -> Int? {
        guard packetID != 0 else { return nil }
        var i = oldest
        while i != InflightWindow.none {
            if slots[Int(i)].packetID == packetID { return Int(i) }
            i = slots[Int(i)].next
        }
        return nil
    }

    /// Whether `packetID` is in flight.
    func contains(_ packetID: UInt16) -> Bool { find(packetID) != nil }

    /// Frees the slot of `packetID`. Returns false for an id not in flight.
    mutating func acknowledge(_ packetID: UInt16) -> Bool {
        guard let slot = find(packetID) else { return false }
        remove(slot: slot)
        return true
    }

    /// The encoded packet in `slot`, marked sent. If it had been sent before, its DUP flag
    /// is set first (§3.3.1.1: DUP=1 on a re-delivery attempt).
    mutating func packetForSending(slot: Int) -> UnsafeRawBufferPointer {
        let offset = slots[slot].offset
        if slots[slot].sent { arena[offset] |= 0x08 }
        slots[slot].sent = true
        return UnsafeRawBufferPointer(rebasing: arena[offset..<(offset + slots[slot].length)])
    }

    /// Whether the packet in `slot` was handed to `packetForSending` or `unsentRun`.
    func isSent(_ slot: Int) -> Bool { slots[slot].sent }

    /// The packet in `slot`, never sent, and the never-sent packets after it in send order
    /// for as long as each starts where the one before it ends in the arena: their bytes as
    /// one span (no DUP flag to set: none was sent before), each marked sent; and the slot
    /// after the span, nil when the span reached the newest.
    ///
    /// - Parameter slot: a live slot whose packet was never sent.
    /// - Returns: the span's bytes and the live slot after it.
    mutating func unsentRun(from slot: Int) -> (bytes: UnsafeRawBufferPointer, next: Int?) {
        let start = slots[slot].offset
        var end = start + slots[slot].length
        slots[slot].sent = true
        var next = slots[slot].next
        while next != InflightWindow.none, !slots[Int(next)].sent, slots[Int(next)].offset == end {
            slots[Int(next)].sent = true
            end += slots[Int(next)].length
            next = slots[Int(next)].next
        }
        return (UnsafeRawBufferPointer(rebasing: arena[start..<end]), next == InflightWindow.none ? nil : Int(next))
    }

    /// Sequence number of `slot` (send order).
    func sequence(of slot: Int) -> UInt64 { slots[slot].sequence }
}
