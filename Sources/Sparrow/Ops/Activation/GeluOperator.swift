/// Gelu (opset 20): x·Φ(x) with `approximate` = "none" (erf form) or "tanh".
struct GeluOperator: Operator {
    static func infer(_ context: OpContext) throws -> [TensorType] {
        guard context.inputs.count == 1 else { throw context.fail("Gelu takes 1 input, got \(context.inputs.count)") }
        _ = try approximation(context)
        return [try context.input(0)]
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        let type = try context.input(0)
        guard type.dtype == .float32 else { throw context.unsupported("Gelu on \(type.dtype) is not executed") }
        let pool = buffers.pool
        if try approximation(context) {
            let pass = UnaryPass<GeluTanhFunction>(input: buffers.input(0), output: buffers.output(0), count: type.count,
                                                   pool: pool)
            return { pass.run() }
        }
        let pass = UnaryPass<GeluErfFunction>(input: buffers.input(0), output: buffers.output(0), count: type.count,
                                              pool: pool)
        return { pass.run() }
    }

    /// Whether the tanh approximation is requested.
    private static func approximation(_ context: OpContext) throws -> Bool {
        switch try context.string("approximate", "none") {
        case "none": return false
        case "tanh": return true
        case let other: throw context.fail("Gelu approximate must be 'none' or 'tanh', got '\(other)'")
        }
    }
}

/// 0.5·x·(1 + erf(x/√2))
enum GeluErfFunction: UnaryElementFunction {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> {
        x * 0.5 * (SIMDMath.erf(x * 0.707_106_781_186_547_5) + 1)
    }
}

/// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
enum GeluTanhFunction: UnaryElementFunction {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> {
        let inner = (x * x * 0.044_715 + 1) * x * 0.797_884_560_802_865_4
        return x * 0.5 * (SIMDMath.tanh(inner) + 1)
    }
}
