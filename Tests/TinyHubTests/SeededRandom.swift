import Foundation
import Testing

/// The generator of the "never traps" loops: SplitMix64 from one 64-bit seed, so a failing run
/// can be replayed exactly. The seed is `TINYHUB_TEST_SEED` (decimal or `0x` hex) when set,
/// otherwise fresh from the system generator. `init` prints it (a trap ends the process before
/// any expectation can report, so the log line is what shows the seed then) and `comment`
/// carries it into every expectation of the loop. Replay:
/// `TINYHUB_TEST_SEED=<seed> swift test --filter <test>` (same toolchain: the standard
/// library's `random(in:using:)` algorithms are not promised stable across Swift versions).
/// An identical copy lives in Tests/TinyHTTPTests (a symbolic link to this file).
struct SeededRandom: RandomNumberGenerator {
    /// The seed this generator started from.
    let seed: UInt64
    private var state: UInt64

    /// A generator seeded with `seed` (no environment lookup, no log line).
    init(seed: UInt64) {
        self.seed = seed
        state = seed
    }

    /// A generator for `test`, seeded from `TINYHUB_TEST_SEED` or at random; prints the seed.
    init(for test: String = #function) {
        let seed: UInt64
        if let text = ProcessInfo.processInfo.environment["TINYHUB_TEST_SEED"] {
            guard let parsed = SeededRandom.parse(text) else {
                Issue.record("TINYHUB_TEST_SEED=\(text) is not a decimal or 0x-hex UInt64")
                self.init(seed: 0)
                return
            }
            seed = parsed
        } else {
            var system = SystemRandomNumberGenerator()
            seed = system.next()
        }
        print("\(test): seed \(seed) (replay: TINYHUB_TEST_SEED=\(seed) swift test --filter \(test.prefix { $0 != "(" }))")
        self.init(seed: seed)
    }

    /// Names the seed in an expectation's failure message.
    var comment: Comment { "seed \(seed): replay with TINYHUB_TEST_SEED=\(seed)" }

    /// Names the seed and `detail` (e.g. the input) in an expectation's failure message.
    func comment(_ detail: String) -> Comment { "\(detail); seed \(seed): replay with TINYHUB_TEST_SEED=\(seed)" }

    /// SplitMix64 (Steele, Lea, Flood 2014; the constants of Vigna's reference code).
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A seed written in decimal or as `0x` hex.
    static func parse(_ text: String) -> UInt64? {
        let lower = text.lowercased()
        if lower.hasPrefix("0x") { return UInt64(lower.dropFirst(2), radix: 16) }
        return UInt64(text)
    }
}
