/// GlobalAveragePool: mean over the spatial axes.
enum GlobalAveragePoolOperator: Operator {
    static func infer(_ context: OpContext) throws -> [TensorType] { try GlobalPoolKernel.infer(context) }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        let kernel = try GlobalPoolKernel(context, buffers: buffers, isMax: false)
        let loop = kernel.loop(buffers.pool)
        return { loop.run() }
    }
}

/// GlobalMaxPool: maximum over the spatial axes.
enum GlobalMaxPoolOperator: Operator {
    static func infer(_ context: OpContext) throws -> [TensorType] { try GlobalPoolKernel.infer(context) }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        let kernel = try GlobalPoolKernel(context, buffers: buffers, isMax: true)
        let loop = kernel.loop(buffers.pool)
        return { loop.run() }
    }
}
