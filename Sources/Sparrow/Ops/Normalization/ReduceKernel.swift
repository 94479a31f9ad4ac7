/// How a Reduce op combines elements.
enum ReduceKind {
    case sum
    case mean
    case max
}

/// ReduceSum, ReduceMean and ReduceMax over fixed buffers, following a `ReducePlan`.
struct ReduceKernel {
    let plan: ReducePlan
    let kind: ReduceKind
    /// Elements combined into each output (the divisor of a mean).
    let reducedCount: Int
    let input: UnsafePointer<Float>
    let output: UnsafeMutablePointer<Float>

    func loop(_ pool: ThreadPool) -> ParallelLoop {
        let scale = reducedCount > 0 ? 1 / Float(reducedCount) : .nan
        switch plan {
        case .copy(let count):
            return ParallelLoop(pool: pool, count: 1) { _ in output.update(from: input, count: count) }
        case .rows(let outer, let length):
            return ElementPartition.rowRangeLoop(pool, rows: outer, rowCost: length) { rows in
                for row in rows {
                    let source = input + row * length
                    switch kind {
                    case .sum: output[row] = RowReduction.sum(source, length)
                    case .mean: output[row] = RowReduction.sum(source, length) * scale
                    case .max: output[row] = RowReduction.maximum(source, length)
                    }
                }
            }
        case .slabs(let outer, let length, let inner):
            let partition = ElementPartition(rows: outer, inner: inner, threadCount: pool.threadCount,
                                             minimumChunk: max(ElementPartition.minimumChunk / max(length, 1), 16))
            return partition.loop(pool) { row, start, end in
                let target = output + row * inner + start
                let count = end - start
                target.update(repeating: kind == .max ? -.infinity : 0, count: count)
                for r in 0..<length {
                    let source = input + (row * length + r) * inner + start
                    if kind == .max {
                        RowReduction.foldMaximum(into: target, from: source, count: count)
                    } else {
                        RowReduction.foldSum(into: target, from: source, count: count)
                    }
                }
                if kind == .mean { UnaryLoops.run(ScaleFunction.self, UnsafePointer(target), target, count, UnaryParameters(alpha: scale)) }
            }
        case .table(let keptOffsets, let reducedOffsets):
            return ElementPartition.rowRangeLoop(pool, rows: keptOffsets.count, rowCost: reducedOffsets.count) { rows in
                for o in rows {
                    let base = input + keptOffsets[o]
                    var accumulator: Float = kind == .max ? -.infinity : 0
                    var r = 0
                    while r < reducedOffsets.count {
                        let x = base[reducedOffsets[r]]
                        r += 1
                        if kind == .max {
                            if x > accumulator { accumulator = x }
                        } else {
                            accumulator += x
                        }
                    }
                    output[o] = kind == .mean ? accumulator * scale : accumulator
                }
            }
        }
    }
}
