/// PRelu(X, slope): x < 0 ? slope·x : x, where the slope broadcasts to X (typically [C, 1, 1] per channel
/// against [N, C, H, W], which the broadcast layout runs as one splat per (n, c) row).
enum PReluOperator: Operator, BinaryElementFunction {
    @inline(__always) static func vector(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
        a.replacing(with: a * b, where: a .< 0)
    }
    @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { a < 0 ? a * b : a }

    static func infer(_ context: OpContext) throws -> [TensorType] {
        guard context.inputs.count == 2 else { throw context.fail("PRelu needs 2 inputs, got \(context.inputs.count)") }
        let x = try context.input(0)
        let slope = try context.input(1)
        guard Broadcast.broadcasts(slope.shape, to: x.shape) else {
            throw context.fail("PRelu slope \(slope.shape) does not broadcast to \(x.shape)")
        }
        return [x]
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        try HostElementwise.requireFloatInputs(context)
        let x = try context.input(0)
        let pool = buffers.pool
        let pass = BinaryPass<PReluOperator>(output: x.shape, aShape: x.shape, bShape: try context.input(1).shape,
                                             a: buffers.input(0), b: buffers.input(1), out: buffers.output(0),
                                             pool: pool)
        return { pass.run() }
    }
}
