/// ONNX Transpose: output axis `i` is input axis `perm[i]` (default: reversed). Axes that stay adjacent are
/// merged first; a merged `[B, R, C] → [B, C, R]` (2-D, NCHW↔NHWC) runs tiled, the rest as a strided copy.
struct TransposeOperator: Operator {
    static func permutation(_ context: OpContext, rank: Int) throws -> [Int] {
        guard let perm = try context.ints("perm") else { return Array((0..<rank).reversed()) }
        guard perm.count == rank else { throw context.fail("perm \(perm) does not match rank \(rank)") }
        var seen = [Bool](repeating: false, count: rank)
        for axis in perm {
            guard axis >= 0, axis < rank, !seen[axis] else { throw context.fail("perm \(perm) is not a permutation") }
            seen[axis] = true
        }
        return perm
    }

    static func infer(_ context: OpContext) throws -> [TensorType] {
        let input = try context.input(0)
        _ = try ShapeArithmetic.count(input.shape, context)
        let perm = try permutation(context, rank: input.shape.count)
        return [TensorType(input.dtype, perm.map { input.shape[$0] })]
    }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? { try HostEvaluation.run(self, context) }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        let input = try context.input(0)
        let perm = try permutation(context, rank: input.shape.count)
        let inputStrides = ShapeArithmetic.strides(input.shape)
        let copy = StridedCopy(dims: perm.map { input.shape[$0] }, strides: perm.map { inputStrides[$0] }, offset: 0,
                               elementSize: input.dtype.size)
        let source = buffers.inputs[0]!
        let destination = buffers.outputs[0]
        let pool = buffers.pool
        if copy.isContiguous {
            return CopyKernel.make(buffers, bytes: outputs[0].byteCount)
        }
        if let shape = copy.batchedTranspose {
            let tiled = TiledTranspose(batches: shape.batches, rows: shape.rows, cols: shape.cols,
                                       elementSize: input.dtype.size)
            let loop = tiled.loop(input: source, output: destination, pool: pool)
            return { loop.run() }
        }
        let loop = copy.loop(input: source, output: destination, pool: pool)
        return { loop.run() }
    }
}
