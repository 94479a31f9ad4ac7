/// ONNX Flatten: `[d0 … d(axis-1)] × [d(axis) …]` as a 2-D tensor; `axis` in `-rank...rank`.
struct FlattenOperator: Operator {
    static func infer(_ context: OpContext) throws -> [TensorType] {
        let input = try context.input(0)
        let rank = input.shape.count
        _ = try ShapeArithmetic.count(input.shape, context)
        let rawAxis = try context.int("axis", 1)
        let axis = rawAxis < 0 ? rawAxis + rank : rawAxis
        guard axis >= 0, axis <= rank else { throw context.fail("axis \(rawAxis) outside -\(rank)...\(rank)") }
        let outer = ShapeArithmetic.product(input.shape, 0..<axis)
        let inner = ShapeArithmetic.product(input.shape, axis..<rank)
        return [TensorType(input.dtype, [outer, inner])]
    }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? {
        guard context.hasInput(0), var value = context.optionalValue(0) else { return nil }
        value.shape = try infer(context)[0].shape
        return [value]
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        CopyKernel.make(buffers, bytes: outputs[0].byteCount)
    }
}
