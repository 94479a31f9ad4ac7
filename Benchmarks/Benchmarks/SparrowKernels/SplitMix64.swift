/// Seeded SplitMix64: weights and inputs are the same on every run, never taken from the clock.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count` values uniform in [-scale, scale), 24 random bits each.
    mutating func floats(_ count: Int, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in
            Float(Int32(truncatingIfNeeded: next() >> 40) - (1 << 23)) / Float(1 << 23) * scale
        }
    }
}
