/// ONNX Range: `start, start + delta, …` below `limit` (above it for negative deltas). The output length
/// depends on the values, so the inputs must be known when planning and the op always folds.
struct RangeOperator: Operator {
    static func values(_ context: OpContext) throws -> HostValue {
        let dtype = try ShapeArithmetic.requireSameDType([0, 1, 2], context)
        var scalars: [HostValue] = []
        for index in 0..<3 {
            let value = try context.value(index, ["start", "limit", "delta"][index])
            guard value.count == 1 else { throw context.fail("Range input \(index) must be a scalar") }
            scalars.append(value)
        }
        if dtype.isInteger {
            let (start, limit, delta) = (scalars[0].ints[0], scalars[1].ints[0], scalars[2].ints[0])
            guard delta != 0 else { throw context.fail("Range delta is 0") }
            // Distances in a wider type: limit - start can overflow Int64.
            let distance = Double(limit) - Double(start)
            let count = max(0, (distance / Double(delta)).rounded(.up))
            guard count <= Double(HostEvaluation.maxElements) else { throw context.fail("Range of \(count) elements") }
            let n = Int64(count)
            // The exact count: the Double estimate may be one off for huge operands.
            var elements: [Int64] = []
            elements.reserveCapacity(Int(n))
            var current = start
            while delta > 0 ? current < limit : current > limit {
                elements.append(current)
                let (next, overflow) = current.addingReportingOverflow(delta)
                if overflow || elements.count > HostEvaluation.maxElements { break }
                current = next
            }
            return HostValue(ints: elements, shape: [elements.count], dtype: dtype)
        }
        let (start, limit, delta) = (scalars[0].floats[0], scalars[1].floats[0], scalars[2].floats[0])
        guard delta != 0, start.isFinite, limit.isFinite, delta.isFinite else {
            throw context.fail("Range needs finite values and a nonzero delta")
        }
        let count = max(0, (Double(limit - start) / Double(delta)).rounded(.up))
        guard count <= Double(HostEvaluation.maxElements) else { throw context.fail("Range of \(count) elements") }
        let elements = (0..<Int(count)).map { start + Float($0) * delta }
        return HostValue(floats: elements, shape: [elements.count], dtype: dtype)
    }

    static func infer(_ context: OpContext) throws -> [TensorType] { [try values(context).type] }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? { [try values(context)] }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        HostEvaluation.constantKernel(try values(context), into: buffers.outputs[0])
    }
}
