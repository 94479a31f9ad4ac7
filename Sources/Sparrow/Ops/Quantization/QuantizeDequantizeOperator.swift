/// An ONNX QuantizeLinear → DequantizeLinear pair on an f32 tensor, per tensor, kept in f32 (the converter's
/// `QDQPass` makes it): `q = clamp(roundEven(x / scale) + zeroPoint, qmin, qmax)`, `y = (q − zeroPoint) · scale`.
/// Models quantized by ONNX Runtime's `quantize_static` (QDQ format) then run in f32 with the same rounding
/// points as the integer model: `x / scale` and round-half-to-even as ONNX specifies QuantizeLinear, saturation
/// to the integer type's range (uint8 0…255, int8 −128…127).
///
/// Attributes: `scale` (float, > 0 and finite), `zero_point`, `qmin`, `qmax` (ints, qmin ≤ zero_point ≤ qmax).
enum QuantizeDequantizeOperator: UnaryElementwiseOperator {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> {
        // alpha = scale, beta = zero point, gamma/delta = qmin/qmax (integers held exactly in f32).
        var q = (x / p.alpha).rounded(.toNearestOrEven) + p.beta
        q = q.replacing(with: p.gamma, where: q .< p.gamma)
        q = q.replacing(with: p.delta, where: q .> p.delta)
        return (q - p.beta) * p.alpha
    }

    static func parameters(_ context: OpContext) throws -> UnaryParameters {
        let scale = try context.float("scale", 0)
        let zeroPoint = try context.int("zero_point", 0), qmin = try context.int("qmin", 0), qmax = try context.int("qmax", 255)
        guard scale > 0, scale.isFinite else { throw context.fail("QuantizeDequantize scale \(scale) is not positive and finite") }
        guard qmin <= zeroPoint, zeroPoint <= qmax, qmin >= -(1 << 24), qmax <= 1 << 24 else {
            throw context.fail("QuantizeDequantize needs qmin ≤ zero_point ≤ qmax, got \(qmin), \(zeroPoint), \(qmax)")
        }
        return UnaryParameters(alpha: scale, beta: Float(zeroPoint), gamma: Float(qmin), delta: Float(qmax))
    }
}
