/// The activation fused into a Conv/Gemm/MatMul node, read from its `activation*` attributes.
package struct FusedActivationSpec {
    package var kind: FusedActivation
    package var alpha: Float
    package var beta: Float

    package init(_ context: OpContext) throws {
        let code = Int64(try context.int("activation", 0))
        guard let kind = FusedActivation(rawValue: code) else {
            throw context.fail("unknown fused activation code \(code)")
        }
        self.kind = kind
        alpha = try context.float("activation_alpha", kind == .hardSigmoid ? 0.2 : (kind == .leakyRelu ? 0.01 : 0))
        beta = try context.float("activation_beta", kind == .hardSigmoid ? 0.5 : 0)
    }

    /// The output clamp a GEMM/conv epilogue applies directly; other activations run as a second pass.
    package var clamp: (min: Float, max: Float) {
        switch kind {
        case .relu: return (0, .infinity)
        case .clip: return (alpha, beta)
        default: return (-.infinity, .infinity)
        }
    }

    /// Whether a pass beyond the clamp is needed.
    package var needsSecondPass: Bool {
        switch kind {
        case .none, .relu, .clip: return false
        default: return true
        }
    }

    /// Applies the non-clamp part in place.
    package func applySecondPass(_ data: UnsafeMutablePointer<Float>, count: Int) {
        if needsSecondPass { ActivationKernels.apply(kind, alpha: alpha, beta: beta, to: data, count: count) }
    }
}
