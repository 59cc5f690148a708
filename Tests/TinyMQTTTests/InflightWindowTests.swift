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
