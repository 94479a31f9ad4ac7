/// BatchNormalization for inference: y = (x − mean) / √(var + ε) · scale + B, folded per channel into
/// y = x·a + b. When the four parameter tensors are known at plan time (the usual case) a and b are
/// computed once in `prepare`; otherwise at the start of every run, into the workspace.
enum BatchNormalizationOperator: Operator {
    static func infer(_ context: OpContext) throws -> [TensorType] {
        guard context.inputs.count == 5 else { throw context.fail("BatchNormalization needs 5 inputs, got \(context.inputs.count)") }
        guard try context.int("training_mode", 0) == 0, context.node.outputs.count == 1 else {
            throw context.unsupported("BatchNormalization runs in inference mode only (one output)")
        }
        let x = try context.input(0)
        guard x.shape.count >= 2 else { throw context.fail("BatchNormalization input must have a channel axis, got \(x.shape)") }
        let channels = x.shape[1]
        for index in 1..<5 {
            let shape = try context.input(index).shape
            guard shape.reduce(1, *) == channels, shape.count <= 1 || shape.allSatisfy({ $0 == 1 || $0 == channels }) else {
                throw context.fail("BatchNormalization parameter \(index) has shape \(shape), expected [\(channels)]")
            }
        }
        return [x]
    }

    static func workspaceBytes(_ context: OpContext, outputs: [TensorType]) throws -> Int {
        let channels = try infer(context)[0].shape[1]
        return knownParameters(context) == nil ? 2 * channels * MemoryLayout<Float>.stride : 0
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        try HostElementwise.requireFloatInputs(context)
        let x = try context.input(0)
        let channels = x.shape[1]
        let epsilon = try context.float("epsilon", 1e-5)
        let rows = x.shape[0] * channels
        let inner = x.shape.dropFirst(2).reduce(1, *)
        let partition = ElementPartition(rows: rows, inner: inner, threadCount: buffers.pool.threadCount)
        let input = buffers.input(0)
        let output = buffers.output(0)
        let pool = buffers.pool
        if let (scale, bias, mean, variance) = knownParameters(context) {
            var a = [Float](repeating: 0, count: channels)
            var b = [Float](repeating: 0, count: channels)
            for c in 0..<channels {
                a[c] = scale[c] / (variance[c] + epsilon).squareRoot()
                b[c] = bias[c] - mean[c] * a[c]
            }
            let coefficients = HostFloatBuffer(a + b)
            let multipliers = UnsafePointer(coefficients.pointer)
            let offsets = multipliers + channels
            let loop = partition.loop(pool) { row, start, end in
                withExtendedLifetime(coefficients) {
                    affine(row, start, end, inner, input, output, multipliers, offsets, channels)
                }
            }
            return { loop.run() }
        }
        guard let workspace = buffers.workspace else { throw context.fail("BatchNormalization needs a workspace") }
        let multipliers = workspace.assumingMemoryBound(to: Float.self)
        let offsets = multipliers + channels
        let scale = buffers.input(1)
        let bias = buffers.input(2)
        let mean = buffers.input(3)
        let variance = buffers.input(4)
        let loop = partition.loop(pool) { row, start, end in
            affine(row, start, end, inner, input, output, UnsafePointer(multipliers), UnsafePointer(offsets), channels)
        }
        return {
            for c in 0..<channels {
                multipliers[c] = scale[c] / (variance[c] + epsilon).squareRoot()
                offsets[c] = bias[c] - mean[c] * multipliers[c]
            }
            loop.run()
        }
    }

    /// y = x·a[c] + b[c] over elements `start..<end` of row (n, c).
    @inline(__always)
    private static func affine(_ row: Int, _ start: Int, _ end: Int, _ inner: Int, _ input: UnsafePointer<Float>,
                               _ output: UnsafeMutablePointer<Float>, _ multipliers: UnsafePointer<Float>,
                               _ offsets: UnsafePointer<Float>, _ channels: Int) {
        let c = row % channels
        let parameters = UnaryParameters(alpha: multipliers[c], beta: offsets[c])
        let base = row * inner + start
        UnaryLoops.run(AffineFunction.self, input + base, output + base, end - start, parameters)
    }

    /// Scale, B, mean and var as floats when all four are known at plan time.
    private static func knownParameters(_ context: OpContext) -> ([Float], [Float], [Float], [Float])? {
        guard let scale = context.optionalValue(1), let bias = context.optionalValue(2),
              let mean = context.optionalValue(3), let variance = context.optionalValue(4) else { return nil }
        return (scale.asFloats, bias.asFloats, mean.asFloats, variance.asFloats)
    }
}

/// x·alpha + beta
enum AffineFunction: UnaryElementFunction {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> { x * p.alpha + p.beta }
}
