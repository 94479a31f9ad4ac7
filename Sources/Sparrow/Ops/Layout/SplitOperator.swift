/// ONNX Split: cuts input 0 along `axis` by the sizes of input 1 (`split`), or into `num_outputs` chunks of
/// `ceil(dim / n)` with a smaller last one (opset 18), or into equal parts, one per output.
struct SplitOperator: Operator {
    static func infer(_ context: OpContext) throws -> [TensorType] {
        let input = try context.input(0)
        let rank = input.shape.count
        guard rank > 0 else { throw context.fail("Split of a scalar") }
        _ = try ShapeArithmetic.count(input.shape, context)
        let axis = try context.axis(try context.int("axis", 0), rank: rank)
        let sizes = try splitSizes(context, dim: input.shape[axis])
        return sizes.map { size in
            var shape = input.shape
            shape[axis] = size
            return TensorType(input.dtype, shape)
        }
    }

    private static func splitSizes(_ context: OpContext, dim: Int) throws -> [Int] {
        let outputCount = context.node.outputs.count
        guard outputCount > 0 else { throw context.fail("Split needs outputs") }
        if context.hasInput(1) {
            let sizes = try ShapeArithmetic.integers(try context.value(1, "split"), "split", context)
            guard sizes.count == outputCount else {
                throw context.fail("split has \(sizes.count) sizes for \(outputCount) outputs")
            }
            var total = 0
            for size in sizes {
                guard size >= 0, size <= dim else { throw context.fail("split size \(size) outside 0...\(dim)") }
                total += size
            }
            guard total == dim else { throw context.fail("split sizes \(sizes) do not add up to \(dim)") }
            return sizes
        }
        if let parts = context.node.attributes["num_outputs"] {
            guard let n = parts.intValue, n > 0, n == outputCount else {
                throw context.fail("num_outputs must equal the \(outputCount) outputs")
            }
            let chunk = (dim + outputCount - 1) / outputCount
            // ONNX 18: every chunk is ceil(dim / n) except a smaller last one; when that leaves an output with
            // nothing (e.g. 5 into 4 → 2, 2, 1, 0), the graph is malformed.
            let sizes = (0..<outputCount).map { max(0, min(chunk, dim - $0 * chunk)) }
            guard dim == 0 || sizes.allSatisfy({ $0 > 0 }) else {
                throw context.fail("axis of \(dim) cannot be split into \(outputCount) chunks")
            }
            return sizes
        }
        guard dim % outputCount == 0 else { throw context.fail("axis of \(dim) does not split evenly into \(outputCount)") }
        return Array(repeating: dim / outputCount, count: outputCount)
    }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? { try HostEvaluation.run(self, context) }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        let input = try context.input(0)
        let axis = try context.axis(try context.int("axis", 0), rank: input.shape.count)
        let size = input.dtype.size
        let rows = ShapeArithmetic.product(input.shape, 0..<axis)
        let inner = ShapeArithmetic.product(input.shape, (axis + 1)..<input.shape.count) * size
        let inputRowBytes = input.shape[axis] * inner
        var blocks: [RowBlockCopy.Block] = []
        var position = 0
        for (index, output) in outputs.enumerated() {
            let bytes = output.shape[axis] * inner
            blocks.append(RowBlockCopy.Block(
                source: buffers.inputs[0]! + position, sourceRowStride: inputRowBytes,
                destination: buffers.outputs[index], destinationRowStride: bytes, bytes: bytes))
            position += bytes
        }
        let copy = RowBlockCopy(rows: rows, blocks: blocks, threadCount: buffers.pool.threadCount)
        let pool = buffers.pool
        let loop = copy.loop(pool: pool)
        return { loop.run() }
    }
}
