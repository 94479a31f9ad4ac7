/// In-place activations for the epilogues of Conv, Gemm, MatMul and ConvTranspose, which fuse them instead
/// of running a separate op. Single-threaded: the caller applies it to the block its thread just computed,
/// while the data is still in cache.
enum ActivationKernels {
    /// Applies `activation` to `count` floats at `data`, in place.
    /// - Parameters:
    ///   - activation: the fused activation; `.none` returns at once.
    ///   - alpha: LeakyRelu slope, HardSigmoid multiplier, or the lower bound of `.clip`.
    ///   - beta: HardSigmoid offset, or the upper bound of `.clip`.
    static func apply(_ activation: FusedActivation, alpha: Float, beta: Float, to data: UnsafeMutablePointer<Float>,
                      count: Int) {
        let parameters = UnaryParameters(alpha: alpha, beta: beta)
        let input = UnsafePointer(data)
        switch activation {
        case .none: return
        case .relu: UnaryLoops.run(ReluOperator.self, input, data, count, parameters)
        case .clip: UnaryLoops.run(ClipOperator.self, input, data, count, parameters)
        case .leakyRelu: UnaryLoops.run(LeakyReluOperator.self, input, data, count, parameters)
        case .sigmoid: UnaryLoops.run(SigmoidOperator.self, input, data, count, parameters)
        case .hardSigmoid: UnaryLoops.run(HardSigmoidOperator.self, input, data, count, parameters)
        case .hardSwish: UnaryLoops.run(HardSwishOperator.self, input, data, count, parameters)
        case .silu: UnaryLoops.run(SiLUOperator.self, input, data, count, parameters)
        case .tanh: UnaryLoops.run(TanhOperator.self, input, data, count, parameters)
        }
    }
}
