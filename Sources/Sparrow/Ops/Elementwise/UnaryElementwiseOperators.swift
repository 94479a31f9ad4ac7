/// The elementwise unary ops of ONNX (activations are in Ops/Activation).

/// Sqrt: √x (`sqrtps`).
enum SqrtOperator: UnaryElementwiseOperator {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> { x.squareRoot() }
}

/// Exp: e^x
enum ExpOperator: UnaryElementwiseOperator {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> { SIMDMath.exp(x) }
}

/// Log: ln x
enum LogOperator: UnaryElementwiseOperator {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> { SIMDMath.log(x) }
}

/// Neg: −x
enum NegOperator: UnaryElementwiseOperator {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> { -x }
    static var evaluatesIntegers: Bool { true }
    static func integer(_ x: Int64) -> Int64 { 0 &- x }
}

/// Reciprocal: 1 / x
enum ReciprocalOperator: UnaryElementwiseOperator {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> { 1 / x }
}

/// Floor: ⌊x⌋
enum FloorOperator: UnaryElementwiseOperator {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> { SIMDMath.floor(x) }
}

/// Ceil: ⌈x⌉
enum CeilOperator: UnaryElementwiseOperator {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> { SIMDMath.ceil(x) }
}

/// Abs: |x|
enum AbsOperator: UnaryElementwiseOperator {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> { SIMDMath.abs(x) }
    static var evaluatesIntegers: Bool { true }
    static func integer(_ x: Int64) -> Int64 { x < 0 ? 0 &- x : x }
}

/// Erf: erf(x)
enum ErfOperator: UnaryElementwiseOperator {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> { SIMDMath.erf(x) }
}
