/// Reductions of one contiguous run of floats (a softmax row, a pooled plane, a reduced row).
enum RowReduction {
    /// Sum with 16 lanes of partial sums (four 4-wide SSE accumulators hide the add latency).
    @inline(__always)
    static func sum(_ source: UnsafePointer<Float>, _ count: Int) -> Float {
        var accumulator = SIMD16<Float>()
        var i = 0
        while i + 16 <= count {
            accumulator += VectorMemory.load(source + i)
            i += 16
        }
        var total = accumulator.sum()
        while i < count {
            total += source[i]
            i += 1
        }
        return total
    }

    /// Maximum (−inf for an empty run); NaN elements are skipped.
    @inline(__always)
    static func maximum(_ source: UnsafePointer<Float>, _ count: Int) -> Float {
        var accumulator = SIMD16<Float>(repeating: -.infinity)
        var i = 0
        while i + 16 <= count {
            let x: SIMD16<Float> = VectorMemory.load(source + i)
            accumulator.replace(with: x, where: x .> accumulator)
            i += 16
        }
        var result = -Float.infinity
        for lane in 0..<16 where accumulator[lane] > result { result = accumulator[lane] }
        while i < count {
            if source[i] > result { result = source[i] }
            i += 1
        }
        return result
    }
}
