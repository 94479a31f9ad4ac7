/// ONNX ConstantOfShape. Sparrow form: attribute `value` (float or int; a one-element list is accepted) and
/// optional int attribute `dtype` (a `DType` raw value); the default is f32 0, an int `value` without `dtype`
/// is int64. The shape (input 0) must be known when planning.
struct ConstantOfShapeOperator: Operator {
    /// The fill element: its dtype and value in `HostValue` form.
    static func element(_ context: OpContext) throws -> (dtype: DType, float: Float, int: Int64) {
        var dtype = DType.float32
        var float: Float = 0
        var int: Int64 = 0
        switch context.node.attributes["value"] {
        case nil: break
        case .float(let v)?: float = v
        case .floats(let v)? where v.count == 1: float = v[0]
        case .int(let v)?:
            int = v
            dtype = .int64
        case .ints(let v)? where v.count == 1:
            int = v[0]
            dtype = .int64
        default: throw context.fail("attribute 'value' must be one float or int")
        }
        if context.node.attributes["dtype"] != nil {
            let raw = try context.int("dtype", 1)
            guard let chosen = UInt8(exactly: raw).flatMap(DType.init(rawValue:)) else {
                throw context.fail("unknown dtype \(raw)")
            }
            let source = dtype
            dtype = chosen
            // Convert the attribute to the requested type with Cast's rules.
            if source.isInteger {
                if chosen.isInteger { int = CastConversion.narrow(int, to: chosen) } else { float = CastConversion.float(Float(int), to: chosen) }
            } else {
                if chosen.isInteger { int = CastConversion.integer(float, to: chosen) } else { float = CastConversion.float(float, to: chosen) }
            }
        }
        return (dtype, float, int)
    }

    static func shape(_ context: OpContext) throws -> [Int] {
        guard try context.input(0).shape.count == 1 else { throw context.fail("shape must be 1-D") }
        let shape = try ShapeArithmetic.integers(try context.value(0, "shape"), "shape", context)
        _ = try ShapeArithmetic.count(shape, context)
        return shape
    }

    static func infer(_ context: OpContext) throws -> [TensorType] {
        [TensorType(try element(context).dtype, try shape(context))]
    }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? {
        let type = try infer(context)[0]
        guard type.count <= HostEvaluation.maxElements else { return nil }
        let element = try element(context)
        if type.dtype.isInteger {
            return [HostValue(ints: Array(repeating: element.int, count: type.count), shape: type.shape, dtype: type.dtype)]
        }
        return [HostValue(floats: Array(repeating: element.float, count: type.count), shape: type.shape, dtype: type.dtype)]
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        let element = try element(context)
        let one = element.dtype.isInteger
            ? HostValue(ints: [element.int], shape: [], dtype: element.dtype)
            : HostValue(floats: [element.float], shape: [], dtype: element.dtype)
        var pattern: UInt64 = 0
        for (i, byte) in one.bytes.enumerated() { pattern |= UInt64(byte) << (8 * i) }
        let destination = buffers.outputs[0]
        let count = outputs[0].count
        let size = element.dtype.size
        return { ElementBytes.fill(destination, count: count, pattern: pattern, size: size) }
    }
}
