/// Clip(x, min?, max?): bounds are optional inputs (opset 11+) that must be known at plan time. An absent
/// bound is unbounded. The lower bound applies first, so that min > max yields max, as ONNX Runtime does.
enum ClipOperator: UnaryElementwiseOperator {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> {
        let low = x.replacing(with: p.alpha, where: x .< p.alpha)
        return low.replacing(with: p.beta, where: low .> p.beta)
    }

    static var maximumInputs: Int { 3 }

    static func parameters(_ context: OpContext) throws -> UnaryParameters {
        UnaryParameters(alpha: try bound(context, 1, "min") ?? -.infinity, beta: try bound(context, 2, "max") ?? .infinity)
    }

    private static func bound(_ context: OpContext, _ index: Int, _ name: String) throws -> Float? {
        guard context.hasInput(index) else { return nil }
        let value = try context.value(index, "Clip \(name)")
        guard value.count == 1 else { throw context.fail("Clip \(name) must be a scalar, got shape \(value.shape)") }
        return value.asFloats[0]
    }
}
