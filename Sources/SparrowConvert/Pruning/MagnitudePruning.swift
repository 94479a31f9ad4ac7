/// Unstructured magnitude pruning: zeroes the weights of smallest absolute value.
///
/// Ties are broken by position (earlier first: within a tensor by C-order index, across tensors by the order they
/// are given in), so the same weights give the same result every time and exactly `zeroCount` weights are chosen.
/// Weights that are zero already are the smallest and are chosen first; when there are more of them than the
/// target, they all stay zero (pruning never makes a weight nonzero). NaN ranks above every number.
enum MagnitudePruning {
    /// `round(fraction × count)`, halves away from zero.
    static func zeroCount(fraction: Double, of count: Int) -> Int {
        min(count, max(0, Int((fraction * Double(count)).rounded())))
    }

    /// Zeroes `zeroCount(fraction, values.count)` smallest-magnitude elements of `values`.
    static func prune(_ values: inout [Float], fraction: Double) {
        var tensors = [values]
        values = []
        prune(&tensors, fraction: fraction)
        values = tensors[0]
    }

    /// Zeroes the `zeroCount(fraction, total)` smallest-magnitude elements over all `tensors` together: one
    /// threshold for all of them (global scope).
    static func prune(_ tensors: inout [[Float]], fraction: Double) {
        let target = zeroCount(fraction: fraction, of: tensors.reduce(0) { $0 + $1.count })
        guard target > 0 else { return }
        // The bit pattern of a non-negative float orders like its value (NaN with the sign cleared lies above
        // +inf), so the threshold is found by a radix select on the 32-bit magnitude patterns: the top 16 bits
        // first, then the low 16 bits inside the top bucket. Linear time, and no sort of millions of keys.
        var histogram = [Int](repeating: 0, count: 1 << 16)
        for tensor in tensors {
            for value in tensor { histogram[Int(value.magnitude.bitPattern >> 16)] += 1 }
        }
        let (high, belowHigh) = bucket(holding: target, in: histogram)
        histogram = [Int](repeating: 0, count: 1 << 16)
        for tensor in tensors {
            for value in tensor where value.magnitude.bitPattern >> 16 == high {
                histogram[Int(value.magnitude.bitPattern & 0xFFFF)] += 1
            }
        }
        let (low, belowLow) = bucket(holding: target - belowHigh, in: histogram)
        let threshold = high << 16 | low
        // Every magnitude below the threshold goes, and the first `ties` (by position) of those equal to it.
        var ties = target - belowHigh - belowLow
        for t in tensors.indices {
            for i in tensors[t].indices {
                let bits = tensors[t][i].magnitude.bitPattern
                if bits < threshold {
                    tensors[t][i] = 0
                } else if bits == threshold, ties > 0 {
                    tensors[t][i] = 0
                    ties -= 1
                }
            }
        }
    }

    /// The first bucket at which the running count reaches `rank` (1-based), and the count of the buckets below it.
    private static func bucket(holding rank: Int, in histogram: [Int]) -> (bucket: UInt32, below: Int) {
        var below = 0
        for (index, count) in histogram.enumerated() {
            if below + count >= rank { return (UInt32(index), below) }
            below += count
        }
        return (UInt32(histogram.count - 1), below)
    }
}
