import Testing
import TinyBytes

@Suite struct ByteSinkTests {
    @Test func overflowIsStickyAndCounted() {
        let result = sink(4) { s in
            s.literal("abc")
            s.literal("de")   // does not fit: dropped, counted
            s.byte(0x66)      // would fit by itself, but the sink already overflowed
        }
        #expect(result.count == 6)
        #expect(result.overflowed)
        #expect(result.raw == [0x61, 0x62, 0x63, 0xAA], "nothing is written once the sink overflowed")
    }

    @Test func truncateRollsBack() {
        let result = sink(4) { s in
            s.literal("ab")
            let mark = s.count
            s.literal("cdef")
            s.truncate(to: mark)
            s.byte(0x21)
        }
        #expect(result.text == "ab!" && !result.overflowed)
    }

    @Test func startOffsetAndBigEndian() {
        var storage = [UInt8](repeating: 0, count: 6)
        storage.withUnsafeMutableBytes { buffer in
            var s = ByteSink(buffer, start: 2)
            s.uint16(0x1234)
            #expect(s.count == 4)
            s.literal("xyz")
            #expect(s.overflowed && s.count == 7)
        }
        #expect(storage[2] == 0x12 && storage[3] == 0x34)
        #expect(storage[4] == 0 && storage[5] == 0, "a block that does not fit is not written in part")
    }
}
