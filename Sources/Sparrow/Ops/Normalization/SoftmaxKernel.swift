/// Softmax or LogSoftmax along one axis of a tensor seen as `[outer, length, inner]`. Numerically stable:
/// the maximum along the axis is subtracted before exponentiating.
struct SoftmaxKernel {
    let outer: Int
    let length: Int
    let inner: Int
    let isLog: Bool
    let input: UnsafePointer<Float>
    let output: UnsafeMutablePointer<Float>

    func loop(_ pool: ThreadPool) -> ParallelLoop {
        if outer * length * inner == 0 { return ParallelLoop(pool: pool, count: 0) { _ in } }
        if inner == 1 {
            return ElementPartition.rowRangeLoop(pool, rows: outer, rowCost: length) { rows in
                for row in rows { runRow(row) }
            }
        }
        // Columns are independent: split them, in pieces that are multiples of 16 lanes.
        let partition = ElementPartition(rows: outer, inner: inner, threadCount: pool.threadCount,
                                         minimumChunk: max(ElementPartition.minimumChunk / length, 16))
        return partition.loop(pool) { row, start, end in runColumns(row, start, end) }
    }

    /// The axis is the last one: one contiguous row.
    private func runRow(_ row: Int) {
        let x = input + row * length
        let y = output + row * length
        let maximum = RowReduction.maximum(x, length)
        let shift = SIMD8<Float>(repeating: maximum)
        var sums = SIMD8<Float>()
        var i = 0
        while i + 8 <= length {
            let e = SIMDMath.exp(VectorMemory.load(x + i) - shift)
            if !isLog { VectorMemory.store(e, to: y + i) }
            sums += e
            i += 8
        }
        if i < length {
            let rest = length - i
            var e = SIMDMath.exp(VectorMemory.loadPartial(x + i, count: rest) - shift)
            // Lanes past the row must not add exp(0 − max) to the sum.
            e.replace(with: 0, where: SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) .>= Int32(rest))
            if !isLog { VectorMemory.storePartial(e, to: y + i, count: rest) }
            sums += e
        }
        let sum = sums.sum()
        if isLog {
            // (x − max) − log Σ: folding max + log Σ into one constant first would round away log Σ
            // whenever it is small next to max.
            let logSum = SIMDMath.log(SIMD8<Float>(repeating: sum))[0]
            UnaryLoops.run(ShiftTwiceFunction.self, x, y, length, UnaryParameters(alpha: maximum, beta: logSum))
        } else {
            UnaryLoops.run(ScaleFunction.self, UnsafePointer(y), y, length, UnaryParameters(alpha: 1 / sum))
        }
    }

    /// The axis is not the last one: columns `start..<end` of slab `row`, 8 at a time, each lane its own
    /// softmax (lanes past `end` compute garbage that is never stored).
    private func runColumns(_ row: Int, _ start: Int, _ end: Int) {
        let x = input + row * length * inner
        let y = output + row * length * inner
        var nextColumn = start
        while nextColumn < end {
            let lanes = min(8, end - nextColumn)
            // A `let` copy: local functions capturing a mutable variable would box it on the heap per slab.
            let column = nextColumn
            @inline(__always) func load(_ r: Int) -> SIMD8<Float> {
                lanes == 8 ? VectorMemory.load(x + r * inner + column) : VectorMemory.loadPartial(x + r * inner + column, count: lanes)
            }
            @inline(__always) func store(_ v: SIMD8<Float>, _ r: Int) {
                if lanes == 8 { VectorMemory.store(v, to: y + r * inner + column) } else { VectorMemory.storePartial(v, to: y + r * inner + column, count: lanes) }
            }
            var maximum = SIMD8<Float>(repeating: -.infinity)
            for r in 0..<length {
                let v = load(r)
                maximum.replace(with: v, where: v .> maximum)
            }
            var sums = SIMD8<Float>()
            for r in 0..<length {
                let e = SIMDMath.exp(load(r) - maximum)
                if !isLog { store(e, r) }
                sums += e
            }
            if isLog {
                let logSums = SIMDMath.log(sums)
                for r in 0..<length { store((load(r) - maximum) - logSums, r) }
            } else {
                let scale = 1 / sums
                for r in 0..<length {
                    let e: SIMD8<Float> = lanes == 8 ? VectorMemory.load(y + r * inner + column)
                                                     : VectorMemory.loadPartial(y + r * inner + column, count: lanes)
                    store(e * scale, r)
                }
            }
            nextColumn += lanes
        }
    }
}

/// (x − alpha) − beta
enum ShiftTwiceFunction: UnaryElementFunction {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> { (x - p.alpha) - p.beta }
}

/// x · alpha
enum ScaleFunction: UnaryElementFunction {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> { x * p.alpha }
}
