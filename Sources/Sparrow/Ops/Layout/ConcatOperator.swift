/// ONNX Concat: joins inputs along `axis`; all other dimensions must match. Any dtype (bytes are copied).
struct ConcatOperator: Operator {
    static func infer(_ context: OpContext) throws -> [TensorType] {
        guard !context.inputs.isEmpty else { throw context.fail("Concat needs at least one input") }
        let first = try context.input(0)
        let rank = first.shape.count
        guard rank > 0 else { throw context.fail("Concat of scalars") }
        guard let axisAttribute = context.node.attributes["axis"] else { throw context.fail("Concat needs 'axis'") }
        guard let rawAxis = axisAttribute.intValue else { throw context.fail("attribute 'axis' must be an int") }
        let axis = try context.axis(Int(rawAxis), rank: rank)
        var total = 0
        for index in context.inputs.indices {
            let type = try context.input(index)
            guard type.dtype == first.dtype else { throw context.fail("input \(index) is \(type.dtype), input 0 is \(first.dtype)") }
            guard type.shape.count == rank else { throw context.fail("input \(index) has rank \(type.shape.count), input 0 has \(rank)") }
            for d in 0..<rank where d != axis && type.shape[d] != first.shape[d] {
                throw context.fail("input \(index) shape \(type.shape) does not match \(first.shape) off axis \(axis)")
            }
            _ = try ShapeArithmetic.count(type.shape, context)
            let (sum, overflow) = total.addingReportingOverflow(type.shape[axis])
            guard !overflow else { throw context.fail("concatenated axis overflows") }
            total = sum
        }
        var shape = first.shape
        shape[axis] = total
        _ = try ShapeArithmetic.count(shape, context)
        return [TensorType(first.dtype, shape)]
    }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? { try HostEvaluation.run(self, context) }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        let output = outputs[0]
        let axis = try context.axis(Int(context.node.attributes["axis"]?.intValue ?? 0), rank: output.shape.count)
        let size = output.dtype.size
        let rows = ShapeArithmetic.product(output.shape, 0..<axis)
        let inner = ShapeArithmetic.product(output.shape, (axis + 1)..<output.shape.count) * size
        let outputRowBytes = output.shape[axis] * inner
        var blocks: [RowBlockCopy.Block] = []
        var position = 0
        for index in context.inputs.indices {
            let bytes = try context.input(index).shape[axis] * inner
            blocks.append(RowBlockCopy.Block(
                source: buffers.inputs[index]!, sourceRowStride: bytes, destination: buffers.outputs[0] + position,
                destinationRowStride: outputRowBytes, bytes: bytes))
            position += bytes
        }
        let copy = RowBlockCopy(rows: rows, blocks: blocks, threadCount: buffers.pool.threadCount)
        let pool = buffers.pool
        let loop = copy.loop(pool: pool)
        return { loop.run() }
    }
}
