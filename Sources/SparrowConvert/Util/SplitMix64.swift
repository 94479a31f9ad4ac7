import Foundation

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny seeded generator, so that calibration inputs made up by the
/// converter (and the benchmark inputs of `sparrow bench`) are the same on every machine and every run.
package struct SplitMix64 {
    package var state: UInt64

    package init(state: UInt64) {
        self.state = state
    }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1]: never 0, so that its logarithm is finite.
    package mutating func unitInterval() -> Double {
        Double((next() >> 11) + 1) / Double(1 << 53)
    }

    /// `count` samples of N(0, 1) by the Box–Muller transform (both values of each pair used).
    package mutating func normals(_ count: Int) -> [Float] {
        var result: [Float] = []
        result.reserveCapacity(count + 1)
        while result.count < count {
            let radius = (-2 * log(unitInterval())).squareRoot()
            let angle = 2 * Double.pi * unitInterval()
            result.append(Float(radius * cos(angle)))
            result.append(Float(radius * sin(angle)))
        }
        return Array(result.prefix(count))
    }
}
