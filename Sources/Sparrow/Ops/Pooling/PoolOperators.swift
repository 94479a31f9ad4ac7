/// MaxPool (single output; Indices and storage_order are not supported) over 2-D NCHW input.
enum MaxPoolOperator: Operator {
    static func infer(_ context: OpContext) throws -> [TensorType] {
        let input = try context.input(0)
        guard context.node.outputs.count <= 1 else { throw context.unsupported("MaxPool Indices output is not supported") }
        let geometry = try PoolGeometry(context, input: input)
        return [TensorType(input.dtype, geometry.outputShape(input.shape))]
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        try HostElementwise.requireFloatInputs(context)
        let kernel = PoolKernel(geometry: try PoolGeometry(context, input: try context.input(0)), isMax: true, scales: nil,
                                input: buffers.input(0), output: buffers.output(0))
        let loop = kernel.loop(buffers.pool)
        return { loop.run() }
    }
}

/// AveragePool over 2-D NCHW input. The divisor counts the taps inside the input, or with
/// count_include_pad = 1 also those in the explicit padding (never those past it that ceil_mode adds),
/// as ONNX's reference and ONNX Runtime do.
enum AveragePoolOperator: Operator {
    static func infer(_ context: OpContext) throws -> [TensorType] {
        let input = try context.input(0)
        let geometry = try PoolGeometry(context, input: input)
        return [TensorType(input.dtype, geometry.outputShape(input.shape))]
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        try HostElementwise.requireFloatInputs(context)
        let geometry = try PoolGeometry(context, input: try context.input(0))
        let includePad = try context.int("count_include_pad", 0) != 0
        var scales = [Float](repeating: 0, count: geometry.outputHeight * geometry.outputWidth)
        for oh in 0..<geometry.outputHeight {
            for ow in 0..<geometry.outputWidth {
                let divisor = includePad
                    ? geometry.height.paddedCount[oh] * geometry.width.paddedCount[ow]
                    : geometry.height.validCount[oh] * geometry.width.validCount[ow]
                scales[oh * geometry.outputWidth + ow] = divisor > 0 ? 1 / Float(divisor) : 0
            }
        }
        let kernel = PoolKernel(geometry: geometry, isMax: false, scales: HostFloatBuffer(scales),
                                input: buffers.input(0), output: buffers.output(0))
        let loop = kernel.loop(buffers.pool)
        return { loop.run() }
    }
}
