/// Reductions of contiguous runs of floats (a softmax row, a pooled plane, a reduced row or slab).
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

extension RowReduction {
    /// `target[i] = max(target[i], source[i])` for `i < count`; NaN sources are skipped.
    @inline(__always)
    static func foldMaximum(into target: UnsafeMutablePointer<Float>, from source: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let current: SIMD8<Float> = VectorMemory.load(target + i)
            let x: SIMD8<Float> = VectorMemory.load(source + i)
            VectorMemory.store(current.replacing(with: x, where: x .> current), to: target + i)
            i += 8
        }
        while i < count {
            if source[i] > target[i] { target[i] = source[i] }
            i += 1
        }
    }

    /// `target[i] += source[i]` for `i < count`.
    @inline(__always)
    static func foldSum(into target: UnsafeMutablePointer<Float>, from source: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let current: SIMD8<Float> = VectorMemory.load(target + i)
            let x: SIMD8<Float> = VectorMemory.load(source + i)
            VectorMemory.store(current + x, to: target + i)
            i += 8
        }
        while i < count {
            target[i] += source[i]
            i += 1
        }
    }
}
