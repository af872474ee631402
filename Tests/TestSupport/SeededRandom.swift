/// A deterministic random number generator (SplitMix64), so a fuzz test that fails fails again the same way.
package struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    package init(seed: UInt64) {
        state = seed
    }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Up to `maxLength` bytes, most drawn from `alphabet` (the parser's own syntax) and some arbitrary.
    package mutating func bytes(from alphabet: [UInt8], maxLength: Int) -> [UInt8] {
        let length = Int.random(in: 0...maxLength, using: &self)
        return (0..<length).map { _ in
            Int.random(in: 0..<10, using: &self) == 0
                ? UInt8.random(in: 0...255, using: &self)
                : alphabet.randomElement(using: &self)!
        }
    }
}
