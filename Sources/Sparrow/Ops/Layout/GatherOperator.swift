/// ONNX Gather: `out[o…, j…, i…] = data[o…, indices[j…], i…]` along `axis`; negative indices count from the end.
/// Known indices are checked when planning; indices read at run time that fall outside give zeros (a kernel
/// cannot throw, and must never read outside its input).
struct GatherOperator: Operator {
    static func infer(_ context: OpContext) throws -> [TensorType] {
        let data = try context.input(0)
        let indices = try context.input(1)
        guard indices.dtype == .int64 || indices.dtype == .int32 else {
            throw context.fail("indices must be int32 or int64, got \(indices.dtype)")
        }
        guard !data.shape.isEmpty else { throw context.fail("Gather from a scalar") }
        _ = try ShapeArithmetic.count(data.shape, context)
        _ = try ShapeArithmetic.count(indices.shape, context)
        let axis = try context.axis(try context.int("axis", 0), rank: data.shape.count)
        let shape = Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...])
        _ = try ShapeArithmetic.count(shape, context)
        return [TensorType(data.dtype, shape)]
    }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? { try HostEvaluation.run(self, context) }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        let data = try context.input(0)
        let indicesType = try context.input(1)
        let axis = try context.axis(try context.int("axis", 0), rank: data.shape.count)
        let size = data.dtype.size
        let outer = ShapeArithmetic.product(data.shape, 0..<axis)
        let axisLength = data.shape[axis]
        let blockBytes = ShapeArithmetic.product(data.shape, (axis + 1)..<data.shape.count) * size
        let indexCount = indicesType.count
        let source = buffers.inputs[0]!
        let destination = buffers.outputs[0]
        let pool = buffers.pool
        if let known = context.optionalValue(1) {
            let indices = try known.ints.map { raw -> Int in
                let index = raw < 0 ? Int(raw) + axisLength : Int(raw)
                guard index >= 0, index < axisLength else { throw context.fail("index \(raw) outside axis of \(axisLength)") }
                return index
            }
            let loop = LayoutRows.loop(outer * indexCount, bytesPerRow: blockBytes, pool: pool) { range in
                for unit in range {
                    let o = unit / indexCount
                    let j = unit - o * indexCount
                    (destination + unit * blockBytes).copyMemory(
                        from: source + (o * axisLength + indices[j]) * blockBytes, byteCount: blockBytes)
                }
            }
            return { loop.run() }
        }
        let rawIndices = buffers.inputs[1]!
        let wide = indicesType.dtype == .int64
        let loop = LayoutRows.loop(outer * indexCount, bytesPerRow: blockBytes, pool: pool) { range in
            for unit in range {
                let o = unit / indexCount
                let j = unit - o * indexCount
                let raw = wide ? Int(rawIndices.load(fromByteOffset: j * 8, as: Int64.self))
                               : Int(rawIndices.load(fromByteOffset: j * 4, as: Int32.self))
                let index = raw < 0 ? raw &+ axisLength : raw
                let target = destination + unit * blockBytes
                if index >= 0, index < axisLength {
                    target.copyMemory(from: source + (o * axisLength + index) * blockBytes, byteCount: blockBytes)
                } else {
                    target.initializeMemory(as: UInt8.self, repeating: 0, count: blockBytes)
                }
            }
        }
        return { loop.run() }
    }
}
