/// Pointwise activations with attributes or no parameters. Each is an `UnaryElementwiseOperator`, so that
/// it runs as a standalone op and `ActivationKernels` can reuse its vector function in fused epilogues.

/// Relu: max(0, x). NaN stays NaN (the comparison is false for it).
enum ReluOperator: UnaryElementwiseOperator {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> {
        x.replacing(with: 0, where: x .< 0)
    }
    static var evaluatesIntegers: Bool { true }
    static func integer(_ x: Int64) -> Int64 { Swift.max(0, x) }
}

/// LeakyRelu: x < 0 ? alpha·x : x (alpha defaults to 0.01).
enum LeakyReluOperator: UnaryElementwiseOperator {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> {
        x.replacing(with: x * p.alpha, where: x .< 0)
    }
    static func parameters(_ context: OpContext) throws -> UnaryParameters {
        UnaryParameters(alpha: try context.float("alpha", 0.01))
    }
}

/// Sigmoid: 1 / (1 + e^-x).
enum SigmoidOperator: UnaryElementwiseOperator {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> {
        SIMDMath.sigmoid(x)
    }
}

/// HardSigmoid: max(0, min(1, alpha·x + beta)) (alpha 0.2, beta 0.5 by default).
enum HardSigmoidOperator: UnaryElementwiseOperator {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> {
        let y = x * p.alpha + p.beta
        return y.replacing(with: 0, where: y .< 0).replacing(with: 1, where: y .> 1)
    }
    static func parameters(_ context: OpContext) throws -> UnaryParameters {
        UnaryParameters(alpha: try context.float("alpha", 0.2), beta: try context.float("beta", 0.5))
    }
}

/// HardSwish: x · max(0, min(1, x/6 + 1/2)), with x/6 computed as x·(1/6) as ONNX defines it (alpha = 1/6).
enum HardSwishOperator: UnaryElementwiseOperator {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> {
        let gate = x * (1 / 6 as Float) + 0.5
        return x * gate.replacing(with: 0, where: gate .< 0).replacing(with: 1, where: gate .> 1)
    }
}

/// SiLU (Swish): x · sigmoid(x), Sparrow's fused form of ONNX's `Mul(x, Sigmoid(x))`.
enum SiLUOperator: UnaryElementwiseOperator {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> {
        SIMDMath.silu(x)
    }
}

/// Tanh.
enum TanhOperator: UnaryElementwiseOperator {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> {
        SIMDMath.tanh(x)
    }
}
