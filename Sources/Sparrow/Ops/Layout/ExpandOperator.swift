/// ONNX Expand: broadcasts input 0 against the shape in input 1 (numpy rules, both directions).
struct ExpandOperator: Operator {
    static func infer(_ context: OpContext) throws -> [TensorType] {
        let input = try context.input(0)
        _ = try ShapeArithmetic.count(input.shape, context)
        let requested = try ShapeArithmetic.integers(try context.value(1, "shape"), "shape", context)
        let rank = max(input.shape.count, requested.count)
        var shape: [Int] = []
        for axis in 0..<rank {
            let a = axis - (rank - input.shape.count)
            let b = axis - (rank - requested.count)
            let x = a >= 0 ? input.shape[a] : 1
            let y = b >= 0 ? requested[b] : 1
            guard y >= 0 else { throw context.fail("shape \(requested) has a negative dimension") }
            guard x == y || x == 1 || y == 1 else {
                throw context.fail("cannot broadcast \(input.shape) to \(requested)")
            }
            shape.append(x == 1 ? y : x)
        }
        _ = try ShapeArithmetic.count(shape, context)
        return [TensorType(input.dtype, shape)]
    }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? { try HostEvaluation.run(self, context) }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        let input = try context.input(0)
        let output = outputs[0]
        let lead = output.shape.count - input.shape.count
        let inputStrides = ShapeArithmetic.strides(input.shape)
        let strides = output.shape.indices.map { axis -> Int in
            let a = axis - lead
            return a >= 0 && input.shape[a] == output.shape[axis] ? inputStrides[a] : 0
        }
        let copy = StridedCopy(dims: output.shape, strides: strides, offset: 0, elementSize: input.dtype.size)
        let source = buffers.inputs[0]!
        let destination = buffers.outputs[0]
        let pool = buffers.pool
        let loop = copy.loop(input: source, output: destination, pool: pool)
        return { loop.run() }
    }
}
