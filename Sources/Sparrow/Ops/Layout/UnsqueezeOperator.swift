/// ONNX Unsqueeze: inserts size-1 axes at the positions of input 1 (normalised against the output rank).
struct UnsqueezeOperator: Operator {
    static func infer(_ context: OpContext) throws -> [TensorType] {
        let input = try context.input(0)
        let listed = try ShapeArithmetic.integers(try context.value(1, "axes"), "axes", context)
        let rank = input.shape.count + listed.count
        let axes = try ShapeArithmetic.axes(listed, rank: rank, "axis", context)
        var shape: [Int] = []
        var next = input.shape.makeIterator()
        for axis in 0..<rank { shape.append(axes.contains(axis) ? 1 : next.next() ?? 1) }
        return [TensorType(input.dtype, shape)]
    }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? {
        guard context.hasInput(0), var value = context.optionalValue(0), context.optionalValue(1) != nil else { return nil }
        value.shape = try infer(context)[0].shape
        return [value]
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        CopyKernel.make(buffers, bytes: outputs[0].byteCount)
    }
}
