/// Unacknowledged QoS 1 PUBLISH packets, kept encoded in a caller-owned byte arena used
/// as a ring: new packets go after the newest, space is reclaimed from the oldest once
/// it and everything before it are acknowledged. PUBACKs may arrive in any order.
struct InflightWindow {
    private let arena: UnsafeMutableRawBufferPointer
    private let slots: UnsafeMutableBufferPointer<MQTTInflightSlot>
    private var head = 0          // index of the oldest slot
    private(set) var count = 0    // slots in use, acknowledged ones at the tail of the ring included
    private(set) var unacknowledged = 0

    init(arena: UnsafeMutableRawBufferPointer, slots: UnsafeMutableBufferPointer<MQTTInflightSlot>) {
        self.arena = arena
        self.slots = slots
    }

    var capacity: Int { slots.count }
    var arenaCapacity: Int { arena.count }

    private func index(_ i: Int) -> Int { (head + i) % slots.count }

    /// Where a packet of `length` bytes would go, or nil if the window or arena is full.
    private func placement(for length: Int) -> Int? {
        guard count < slots.count, length <= arena.count else { return nil }
        if count == 0 { return 0 }
        let start = slots[head].offset
        let newest = slots[index(count - 1)]
        let tail = newest.offset + newest.length
        if tail > start {
            // Used region is [start, tail): room after tail, or wrap to 0 before start.
            if arena.count - tail >= length { return tail }
            return length <= start ? 0 : nil
        }
        // Wrapped: used region is [start, end) + [0, tail); room is [tail, start).
        return start - tail >= length ? tail : nil
    }

    /// Whether a packet of `length` bytes fits now.
    func canAppend(length: Int) -> Bool { placement(for: length) != nil }

    /// Reserves `length` bytes for packet `packetID`; returns the bytes to encode into.
    mutating func append(packetID: UInt16, length: Int) -> UnsafeMutableRawBufferPointer? {
        guard let offset = placement(for: length) else { return nil }
        let slot = index(count)
        slots[slot] = MQTTInflightSlot()
        slots[slot].packetID = packetID
        slots[slot].offset = offset
        slots[slot].length = length
        count += 1
        unacknowledged += 1
        return UnsafeMutableRawBufferPointer(rebasing: arena[offset..<(offset + length)])
    }

    /// Drops the newest slot (used when encoding into it failed).
    mutating func removeNewest() {
        guard count > 0 else { return }
        count -= 1
        unacknowledged -= 1
    }

    /// Whether `packetID` is in flight.
    func contains(_ packetID: UInt16) -> Bool {
        var i = 0
        while i < count {
            let slot = slots[index(i)]
            if slot.packetID == packetID, !slot.acknowledged { return true }
            i += 1
        }
        return false
    }

    /// Marks `packetID` acknowledged and reclaims space. Returns false for an unknown id.
    mutating func acknowledge(_ packetID: UInt16) -> Bool {
        var i = 0
        var found = false
        while i < count {
            let at = index(i)
            if slots[at].packetID == packetID, !slots[at].acknowledged {
                slots[at].acknowledged = true
                unacknowledged -= 1
                found = true
                break
            }
            i += 1
        }
        while count > 0, slots[head].acknowledged {
            head = (head + 1) % slots.count
            count -= 1
        }
        if count == 0 { head = 0 }
        return found
    }

    /// The encoded packet at position `i` (0 = oldest) if not yet acknowledged. Marks it
    /// sent; if it had been sent before, sets its DUP flag first (§3.3.1.1).
    mutating func packetForSending(at i: Int) -> UnsafeRawBufferPointer? {
        let at = index(i)
        guard i < count, !slots[at].acknowledged else { return nil }
        let offset = slots[at].offset
        if slots[at].sent { arena[offset] |= 0x08 }
        slots[at].sent = true
        return UnsafeRawBufferPointer(rebasing: arena[offset..<(offset + slots[at].length)])
    }
}
