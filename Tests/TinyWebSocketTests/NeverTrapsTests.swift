import Testing
import TinyWebSocket

/// Random bytes, random mutations of valid frames and random feed and output sizes never trap,
/// and consumption never exceeds the input. The seed is printed first (replay with TINYHUB_TEST_SEED).
@Test func decoderNeverTraps() {
    var rng = SeededRandom()
    let valid: [UInt8] = [0x02, 0x03, 0x48, 0x65, 0x6c, 0x89, 0x02, 0xAA, 0xBB, 0x80, 0x02, 0x6c, 0x6f,
                          0x82, 0x7E, 0x00, 0x80] + [UInt8](repeating: 1, count: 128) + [0x88, 0x02, 0x03, 0xE8]
    for _ in 0..<20_000 {
        var bytes: [UInt8]
        if Bool.random(using: &rng) {
            bytes = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        } else {
            bytes = valid
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
        }
        let step = Int.random(in: 1...70, using: &rng)
        let out = Int.random(in: 0...40, using: &rng)
        let got = decodeAll(bytes, step: step, outSize: out, max: UInt64.random(in: 0...200, using: &rng))
        #expect(got.consumed <= bytes.count, rng.comment)
        #expect(got.data.count <= bytes.count, rng.comment)
    }
}
