/// ONNX Reshape: input 1 gives the shape; 0 copies the input dimension (unless `allowzero` = 1, where it is a
/// real 0) and one -1 is inferred from the element count.
struct ReshapeOperator: Operator {
    static func infer(_ context: OpContext) throws -> [TensorType] {
        let input = try context.input(0)
        let count = try ShapeArithmetic.count(input.shape, context)
        let requested = try ShapeArithmetic.integers(try context.value(1, "shape"), "shape", context)
        guard try context.input(1).shape.count == 1 else { throw context.fail("shape must be 1-D") }
        let allowZero = try context.int("allowzero", 0) != 0
        var shape: [Int] = []
        var inferred: Int?
        for (index, dim) in requested.enumerated() {
            switch dim {
            case -1:
                guard inferred == nil else { throw context.fail("shape \(requested) has more than one -1") }
                inferred = index
                shape.append(1)
            case 0 where !allowZero:
                guard index < input.shape.count else {
                    throw context.fail("shape \(requested) copies dimension \(index) of rank-\(input.shape.count) input")
                }
                shape.append(input.shape[index])
            default:
                guard dim >= 0 else { throw context.fail("shape \(requested) has a negative dimension") }
                shape.append(dim)
            }
        }
        let known = try ShapeArithmetic.count(shape, context)
        if let inferred {
            guard known > 0, count % known == 0 else {
                throw context.fail("cannot infer -1 reshaping \(input.shape) to \(requested)")
            }
            shape[inferred] = count / known
        } else {
            guard known == count else { throw context.fail("cannot reshape \(input.shape) to \(requested)") }
        }
        return [TensorType(input.dtype, shape)]
    }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? {
        guard context.hasInput(0), let value = context.optionalValue(0), context.optionalValue(1) != nil else { return nil }
        let output = try infer(context)[0]
        var result = value
        result.shape = output.shape
        return [result]
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        CopyKernel.make(buffers, bytes: outputs[0].byteCount)
    }
}
