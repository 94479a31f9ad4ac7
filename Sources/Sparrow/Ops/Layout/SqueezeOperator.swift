/// ONNX Squeeze: removes the size-1 axes listed in input 1, or every size-1 axis when it is omitted.
struct SqueezeOperator: Operator {
    static func infer(_ context: OpContext) throws -> [TensorType] {
        let input = try context.input(0)
        let rank = input.shape.count
        var shape: [Int] = []
        if context.hasInput(1) {
            let listed = try ShapeArithmetic.integers(try context.value(1, "axes"), "axes", context)
            let axes = try ShapeArithmetic.axes(listed, rank: rank, "axis", context)
            for axis in axes where input.shape[axis] != 1 {
                throw context.fail("cannot squeeze axis \(axis) of size \(input.shape[axis])")
            }
            for (axis, dim) in input.shape.enumerated() where !axes.contains(axis) { shape.append(dim) }
        } else {
            shape = input.shape.filter { $0 != 1 }
        }
        return [TensorType(input.dtype, shape)]
    }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? {
        guard context.hasInput(0), var value = context.optionalValue(0) else { return nil }
        guard !context.hasInput(1) || context.optionalValue(1) != nil else { return nil }
        value.shape = try infer(context)[0].shape
        return [value]
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        CopyKernel.make(buffers, bytes: outputs[0].byteCount)
    }
}
