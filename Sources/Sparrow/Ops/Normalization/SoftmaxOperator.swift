/// Softmax and LogSoftmax (opset 13 semantics: along the single axis `axis`, default −1).
protocol SoftmaxFamilyOperator: Operator {
    static var isLog: Bool { get }
}

extension SoftmaxFamilyOperator {
    static func infer(_ context: OpContext) throws -> [TensorType] {
        guard context.inputs.count == 1 else {
            throw context.fail("\(context.node.op.name) takes 1 input, got \(context.inputs.count)")
        }
        let input = try context.input(0)
        _ = try split(context, input.shape)
        return [input]
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        try HostElementwise.requireFloatInputs(context)
        let input = try context.input(0)
        let (outer, length, inner) = try split(context, input.shape)
        let kernel = SoftmaxKernel(outer: outer, length: length, inner: inner, isLog: isLog,
                                   input: buffers.input(0), output: buffers.output(0))
        let loop = kernel.loop(buffers.pool)
        return { loop.run() }
    }

    /// The shape as `[outer, length along axis, inner]`.
    private static func split(_ context: OpContext, _ shape: [Int]) throws -> (Int, Int, Int) {
        if shape.isEmpty { return (1, 1, 1) }
        let axis = try context.axis(try context.int("axis", -1), rank: shape.count)
        return (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }
}

/// Softmax: e^(x − max) / Σ e^(x − max).
enum SoftmaxOperator: SoftmaxFamilyOperator {
    static var isLog: Bool { false }
}

/// LogSoftmax: x − max − log Σ e^(x − max).
enum LogSoftmaxOperator: SoftmaxFamilyOperator {
    static var isLog: Bool { true }
}
