import Testing
@testable import TinyMQTT

@Suite struct InflightWindowTests {
    final class Storage {
        let arena: UnsafeMutableRawBufferPointer
        let slots: UnsafeMutableBufferPointer<MQTTInflightSlot>
        init(bytes: Int, window: Int) {
            arena = .allocate(byteCount: bytes, alignment: 1)
            slots = .allocate(capacity: window)
            slots.initialize(repeating: MQTTInflightSlot())
        }
        deinit { arena.deallocate(); slots.deallocate() }
        var window: InflightWindow { InflightWindow(arena: arena, slots: slots) }
    }

    @Test func arenaWrapsAroundAndReclaimsSpace() {
        let storage = Storage(bytes: 100, window: 8)
        var window = storage.window
        let a = window.append(packetID: 1, length: 40)
        let b = window.append(packetID: 2, length: 40)
        #expect(a != nil && b != nil)
        let full = window.append(packetID: 3, length: 40)
        #expect(full == nil, "only 20 bytes left at the end")
        let ackedFirst = window.acknowledge(1)
        #expect(ackedFirst)
        let c = window.append(packetID: 3, length: 40)
        #expect(c?.bytes.baseAddress == storage.arena.baseAddress, "wrapped to the start")
        let none = window.append(packetID: 4, length: 1)
        #expect(none == nil, "wrapped region is full up to the oldest")
        let again = window.acknowledge(1)
        #expect(!again, "an id is acknowledged once")
        let third = window.acknowledge(3)
        #expect(third, "out of order")
        #expect(window.unacknowledged == 1)
        let second = window.acknowledge(2)
        #expect(second)
        let whole = window.append(packetID: 5, length: 100)
        #expect(whole != nil, "empty window uses the whole arena")
    }

    @Test func outOfOrderAcksFreeSlotsBehindAStuckHead() {
        let storage = Storage(bytes: 1000, window: 2)
        var window = storage.window
        _ = window.append(packetID: 1, length: 10) // never acknowledged
        for id in UInt16(2)...UInt16(200) {
            let slot = window.append(packetID: id, length: 10)
            #expect(slot != nil, "id \(id)")
            let acked = window.acknowledge(id)
            #expect(acked)
        }
        #expect(window.contains(1))
    }

    @Test func resendOrderFollowsSendOrder() {
        let storage = Storage(bytes: 100, window: 4)
        var window = storage.window
        for id in UInt16(1)...4 { _ = window.append(packetID: id, length: 5) }
        _ = window.acknowledge(2)
        _ = window.append(packetID: 9, length: 5) // reuses slot of id 2, but is newest
        var order: [UInt64] = []
        var last: UInt64 = 0
        while let slot = window.nextInOrder(after: last) {
            last = window.sequence(of: slot)
            order.append(last)
        }
        #expect(order == [1, 3, 4, 5])
    }

    @Test func resendSetsDupOnlyOnRepeatedSends() {
        let storage = Storage(bytes: 16, window: 2)
        var window = storage.window
        let (slot, bytes) = window.append(packetID: 9, length: 4)!
        bytes[0] = 0x32
        let first = window.packetForSending(slot: slot)[0]
        let resend = window.packetForSending(slot: slot)[0]
        #expect(first == 0x32)
        #expect(resend == 0x3A)
    }
}

/// The O(1) book-keeping (send-order list of live slots, free list) against a plain model
/// of the old scanning implementation, over random appends, acks and removals.
@Suite struct InflightWindowModelTests {
    /// Deterministic xorshift, so a failure reproduces.
    struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % UInt64(bound))
        }
    }

    struct Entry { var id: UInt16; var slot: Int; var offset: Int; var length: Int }

    /// Where the old implementation put a packet: after the newest live packet, else at 0
    /// when it fits before the oldest; nothing when the window or arena is full.
    static func modelPlacement(_ live: [Entry], length: Int, arena: Int, window: Int) -> Int? {
        guard live.count < window, length <= arena else { return nil }
        guard let oldest = live.first, let newest = live.last else { return 0 }
        let start = oldest.offset, tail = newest.offset + newest.length
        if newest.offset >= start {
            if arena - tail >= length { return tail }
            return length <= start ? 0 : nil
        }
        return start - tail >= length ? tail : nil
    }

    /// Checks the invariants documented on `InflightWindow` and that the live list is the
    /// model's send order.
    static func check(_ window: InflightWindow, _ slots: UnsafeMutableBufferPointer<MQTTInflightSlot>, _ live: [Entry]) {
        #expect(window.unacknowledged == live.count)
        var visited: [Int] = []
        var previous = InflightWindow.none
        var i = window.oldest
        var lastSequence: UInt64 = 0
        while i != InflightWindow.none, visited.count <= slots.count {
            let slot = slots[Int(i)]
            #expect(slot.packetID != 0, "live list holds only live slots")
            #expect(slot.previous == previous, "previous link of slot \(i)")
            #expect(slot.sequence > lastSequence, "send order")
            lastSequence = slot.sequence
            visited.append(Int(i))
            previous = i
            i = slot.next
        }
        #expect(window.newest == previous, "newest is the end of the live list")
        #expect(visited == live.map(\.slot), "live list is the send order")
        #expect(visited.map { slots[$0].packetID } == live.map(\.id))
        var free: [Int] = []
        i = window.firstFree
        while i != InflightWindow.none, free.count <= slots.count {
            #expect(slots[Int(i)].packetID == 0, "free list holds only free slots")
            free.append(Int(i))
            i = slots[Int(i)].next
        }
        #expect(Set(free).count == free.count && Set(free).isDisjoint(with: visited))
        #expect(free.count + visited.count == window.capacity, "every slot is live or free")
        // Resend order as the session walks it, and as the sequence-based lookup finds it.
        var walk: [Int] = []
        var next = window.oldestSlot
        while let s = next, walk.count <= slots.count { walk.append(s); next = window.slot(after: s) }
        #expect(walk == visited)
        var bySequence: [Int] = []
        var last: UInt64 = 0
        while let s = window.nextInOrder(after: last), bySequence.count <= slots.count {
            bySequence.append(s); last = window.sequence(of: s)
        }
        #expect(bySequence == visited)
    }

    @Test(arguments: [(64, 1), (100, 4), (256, 16), (1000, 7)])
    func randomOperationsMatchTheModel(arena: Int, window size: Int) {
        let storage = InflightWindowTests.Storage(bytes: arena, window: size)
        var window = storage.window
        var live: [Entry] = []
        var random = Random(state: UInt64(arena * 31 + size))
        var nextID: UInt16 = 1
        for step in 0..<3_000 {
            switch random.next(10) {
            case 0..<5: // append
                let length = 1 + random.next(arena / 3)
                let expected = Self.modelPlacement(live, length: length, arena: arena, window: size)
                let fits = window.canAppend(length: length)
                #expect(fits == (expected != nil), "step \(step): canAppend")
                let result = window.append(packetID: nextID, length: length)
                #expect((result == nil) == (expected == nil), "step \(step): append")
                if let (slot, bytes) = result, let offset = expected {
                    #expect(bytes.baseAddress == storage.arena.baseAddress! + offset, "step \(step): offset")
                    #expect(bytes.count == length)
                    #expect(!live.contains { $0.slot == slot }, "step \(step): a free slot")
                    live.append(Entry(id: nextID, slot: slot, offset: offset, length: length))
                    nextID = nextID == UInt16.max ? 1 : nextID + 1
                }
            case 5..<7 where !live.isEmpty: // in-order ack (the common case)
                let entry = live.removeFirst()
                let acked = window.acknowledge(entry.id)
                #expect(acked, "step \(step)")
            case 7..<9 where !live.isEmpty: // out-of-order ack
                let entry = live.remove(at: random.next(live.count))
                let acked = window.acknowledge(entry.id)
                #expect(acked, "step \(step)")
                let again = window.acknowledge(entry.id)
                #expect(!again, "step \(step): acknowledged once")
                #expect(!window.contains(entry.id))
            case 9 where !live.isEmpty: // encoding failed: remove by slot
                let entry = live.remove(at: random.next(live.count))
                window.remove(slot: entry.slot)
                window.remove(slot: entry.slot) // a second removal is a no-op
            default:
                let unknown = window.acknowledge(0)
                #expect(!unknown)
            }
            for entry in live { #expect(window.contains(entry.id)) }
            Self.check(window, storage.slots, live)
        }
    }

    @Test func initClearsStaleSlots() {
        let storage = InflightWindowTests.Storage(bytes: 64, window: 3)
        var first = storage.window
        _ = first.append(packetID: 7, length: 8)
        _ = first.append(packetID: 8, length: 8)
        let window = storage.window // a new window over the same memory starts empty
        #expect(window.unacknowledged == 0 && !window.contains(7) && window.oldestSlot == nil)
        Self.check(window, storage.slots, [])
    }

    @Test func slotIsSmall() {
        #expect(MemoryLayout<MQTTInflightSlot>.stride == 32, "links and flag share the packet id's word")
    }
}
