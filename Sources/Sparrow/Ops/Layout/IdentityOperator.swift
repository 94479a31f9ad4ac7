/// ONNX Identity.
struct IdentityOperator: Operator {
    static func infer(_ context: OpContext) throws -> [TensorType] { [try context.input(0)] }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? {
        guard context.hasInput(0), let value = context.optionalValue(0) else { return nil }
        return [value]
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        CopyKernel.make(buffers, bytes: outputs[0].byteCount)
    }
}
