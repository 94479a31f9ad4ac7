/// ONNX Cast; attribute `to` is a `DType` raw value (the converter maps TensorProto types). Known inputs fold
/// on the host; at run time every dtype pair converts, element by element (Cast is rare on hot paths of CNNs).
struct CastOperator: Operator {
    static func target(_ context: OpContext) throws -> DType {
        guard context.node.attributes["to"] != nil else { throw context.fail("Cast needs 'to'") }
        let raw = try context.int("to", 0)
        guard let dtype = UInt8(exactly: raw).flatMap(DType.init(rawValue:)) else {
            throw context.fail("unknown dtype \(raw)")
        }
        return dtype
    }

    static func infer(_ context: OpContext) throws -> [TensorType] {
        let input = try context.input(0)
        _ = try ShapeArithmetic.count(input.shape, context)
        return [TensorType(try target(context), input.shape)]
    }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? {
        let target = try target(context)
        guard context.hasInput(0), let value = context.optionalValue(0) else { return nil }
        return [CastConversion.convert(value, to: target)]
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        let source = try context.input(0).dtype
        let target = try target(context)
        let count = outputs[0].count
        let input = buffers.inputs[0]!
        let output = buffers.outputs[0]
        if source == target {
            return CopyKernel.make(buffers, bytes: outputs[0].byteCount)
        }
        return {
            for i in 0..<count {
                if source.isInteger {
                    let value = CastElements.loadInt(input, i, source)
                    if target.isInteger {
                        CastElements.store(int: CastConversion.narrow(value, to: target), output, i, target)
                    } else {
                        CastElements.store(float: Float(value), output, i, target)
                    }
                } else {
                    let value = CastElements.loadFloat(input, i, source)
                    if target.isInteger {
                        CastElements.store(int: CastConversion.integer(value, to: target), output, i, target)
                    } else {
                        CastElements.store(float: value, output, i, target)
                    }
                }
            }
        }
    }
}
