/// ONNX MatMul (NumPy semantics: 1-D promotion, broadcast batch dimensions) with a fused activation. When B is
/// one matrix shared by every batch, the batch folds into M and the whole op is a single sgemm.
struct MatMulOperator: Operator {
    struct Plan {
        var m: Int, n: Int, k: Int
        var outputShape: [Int]
        /// Element offsets of A and B for each output batch entry.
        var aOffsets: [Int], bOffsets: [Int]
        var foldedBatch: Bool
    }

    static func plan(_ context: OpContext) throws -> Plan {
        let a = try context.input(0), b = try context.input(1)
        guard a.dtype == .float32, b.dtype == .float32 else { throw context.unsupported("MatMul runs on f32 only") }
        guard !a.shape.isEmpty, !b.shape.isEmpty else { throw context.fail("MatMul needs inputs of rank ≥ 1") }
        let aShape = a.shape.count == 1 ? [1, a.shape[0]] : a.shape
        let bShape = b.shape.count == 1 ? [b.shape[0], 1] : b.shape
        let m = aShape[aShape.count - 2], k = aShape[aShape.count - 1]
        let kb = bShape[bShape.count - 2], n = bShape[bShape.count - 1]
        guard k == kb else { throw context.fail("MatMul inner dimensions differ: \(a.shape) × \(b.shape)") }
        let aBatch = Array(aShape.dropLast(2)), bBatch = Array(bShape.dropLast(2))
        let rank = max(aBatch.count, bBatch.count)
        let aPadded = [Int](repeating: 1, count: rank - aBatch.count) + aBatch
        let bPadded = [Int](repeating: 1, count: rank - bBatch.count) + bBatch
        var batch: [Int] = []
        for (x, y) in zip(aPadded, bPadded) {
            guard x == y || x == 1 || y == 1 else { throw context.fail("MatMul batch dims \(aBatch) and \(bBatch) do not broadcast") }
            batch.append(max(x, y))
        }
        var outputShape = batch
        if a.shape.count > 1 { outputShape.append(m) }
        if b.shape.count > 1 { outputShape.append(n) }
        let total = batch.reduce(1, *)
        var aOffsets: [Int] = [], bOffsets: [Int] = []
        aOffsets.reserveCapacity(total)
        bOffsets.reserveCapacity(total)
        for flat in 0..<total {
            var rest = flat, aIndex = 0, bIndex = 0, aStride = 1, bStride = 1
            for axis in stride(from: rank - 1, through: 0, by: -1) {
                let i = rest % batch[axis]
                rest /= batch[axis]
                if aPadded[axis] != 1 { aIndex += i * aStride }
                if bPadded[axis] != 1 { bIndex += i * bStride }
                aStride *= aPadded[axis]
                bStride *= bPadded[axis]
            }
            aOffsets.append(aIndex * m * k)
            bOffsets.append(bIndex * k * n)
        }
        let folded = bBatch.reduce(1, *) == 1 && aBatch.reduce(1, *) == total
        return Plan(m: m, n: n, k: k, outputShape: outputShape, aOffsets: aOffsets, bOffsets: bOffsets,
                    foldedBatch: folded)
    }

    static func infer(_ context: OpContext) throws -> [TensorType] {
        _ = try FusedActivationSpec(context)
        return [TensorType(.float32, try plan(context).outputShape)]
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        let p = try plan(context)
        let activation = try FusedActivationSpec(context)
        let a = buffers.input(0), b = buffers.input(1), y = buffers.output(0)
        // No bias: the epilogue is the activation alone, the same for every row.
        let sgemm = ParallelSgemm(pool: buffers.pool,
                                  epilogue: GemmEpilogue(bias: nil, activation: activation, pool: buffers.pool))
        let batches = p.aOffsets.count
        return {
            if p.foldedBatch {
                sgemm.run(m: batches * p.m, n: p.n, k: p.k, a: a, lda: p.k, b: b, ldb: p.n, c: y, ldc: p.n)
            } else {
                var i = 0
                while i < batches {
                    sgemm.run(m: p.m, n: p.n, k: p.k, a: a + p.aOffsets[i], lda: p.k, b: b + p.bOffsets[i], ldb: p.n,
                              c: y + i * p.m * p.n, ldc: p.n)
                    i += 1
                }
            }
        }
    }
}
