/// ONNX Shape (opset 15 `start`/`end`): the input's dimensions as int64. Needs only the input's type, so it
/// always evaluates at plan time.
struct ShapeOperator: Operator {
    static func dimensions(_ context: OpContext) throws -> [Int64] {
        let shape = try context.input(0).shape
        let rank = shape.count
        func clamp(_ value: Int) -> Int {
            let normalized = value < 0 ? value + rank : value
            return min(max(normalized, 0), rank)
        }
        let start = clamp(try context.int("start", 0))
        let end = clamp(try context.int("end", rank))
        return start < end ? shape[start..<end].map { Int64($0) } : []
    }

    static func infer(_ context: OpContext) throws -> [TensorType] {
        [TensorType(.int64, [try dimensions(context).count])]
    }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? {
        let dims = try dimensions(context)
        return [HostValue(ints: dims, shape: [dims.count])]
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        let dims = try dimensions(context)
        return HostEvaluation.constantKernel(HostValue(ints: dims, shape: [dims.count]), into: buffers.outputs[0])
    }
}
