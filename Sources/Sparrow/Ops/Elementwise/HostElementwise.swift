/// Plan-time evaluation of elementwise ops on known values (shape arithmetic on integer tensors). Runs on
/// small host arrays, so it favours simplicity over speed.
enum HostElementwise {
    /// Applies `function` to the broadcast elements of `values`, giving a value of `shape` and `dtype`.
    /// `function` returns `nil` where the op is undefined, which fails the node.
    static func ints(_ values: [HostValue], shape: [Int], dtype: DType, _ context: OpContext,
                     _ function: ([Int64]) -> Int64?) throws -> HostValue {
        let sources = values.map { Broadcast.sourceIndices(of: $0.shape, in: shape) }
        let elements = values.map(\.asInts)
        let count = shape.reduce(1, *)
        var result = [Int64](repeating: 0, count: count)
        var arguments = [Int64](repeating: 0, count: values.count)
        for index in 0..<count {
            for operand in values.indices { arguments[operand] = elements[operand][sources[operand][index]] }
            guard let value = function(arguments) else {
                throw context.fail("\(context.node.op.name) is undefined for \(arguments) (integer division by zero?)")
            }
            result[index] = wrap(value, to: dtype)
        }
        return HostValue(ints: result, shape: shape, dtype: dtype)
    }

    /// Applies `function` to the broadcast elements of float `values`.
    static func floats(_ values: [HostValue], shape: [Int], _ function: ([Float]) -> Float) -> HostValue {
        let sources = values.map { Broadcast.sourceIndices(of: $0.shape, in: shape) }
        let elements = values.map(\.asFloats)
        let count = shape.reduce(1, *)
        var result = [Float](repeating: 0, count: count)
        var arguments = [Float](repeating: 0, count: values.count)
        for index in 0..<count {
            for operand in values.indices { arguments[operand] = elements[operand][sources[operand][index]] }
            result[index] = function(arguments)
        }
        return HostValue(floats: result, shape: shape)
    }

    /// Two's-complement wrap-around to the width of `dtype`, as the tensor would store it.
    static func wrap(_ value: Int64, to dtype: DType) -> Int64 {
        switch dtype {
        case .int32: return Int64(Int32(truncatingIfNeeded: value))
        case .int8: return Int64(Int8(truncatingIfNeeded: value))
        case .uint8: return Int64(UInt8(truncatingIfNeeded: value))
        case .bool: return value != 0 ? 1 : 0
        case .int64, .float32, .float16: return value
        }
    }

    /// Types of all inputs, which ONNX requires to share one element type.
    static func sameTypeInputs(_ context: OpContext) throws -> [TensorType] {
        let types = try (0..<context.inputs.count).map { try context.input($0) }
        if let first = types.first, let other = types.first(where: { $0.dtype != first.dtype }) {
            throw context.fail("\(context.node.op.name) mixes \(first.dtype) and \(other.dtype) inputs")
        }
        return types
    }

    /// The broadcast shape of `types`, or a failure naming them.
    static func broadcastShape(_ types: [TensorType], _ context: OpContext) throws -> [Int] {
        guard let shape = Broadcast.shape(types.map(\.shape)) else {
            throw context.fail("shapes \(types.map(\.shape)) do not broadcast")
        }
        return shape
    }

    /// Fails with `unsupported` unless every present input is float32: integer tensors are only computed at
    /// plan time.
    static func requireFloatInputs(_ context: OpContext, from first: Int = 0) throws {
        for index in first..<context.inputs.count {
            if let type = context.inputs[index], type.dtype != .float32 {
                throw context.unsupported("\(context.node.op.name) on \(type.dtype) runs only when its inputs are known at plan time")
            }
        }
    }
}
