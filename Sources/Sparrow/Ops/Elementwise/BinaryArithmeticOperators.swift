/// Add, Sub, Mul, Div, Min, Max: element functions with their integer forms for plan-time shape arithmetic.

/// Add: a + b
enum AddOperator: BinaryArithmeticOperator {
    @inline(__always) static func vector(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { a + b }
    @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { a + b }
    static func integer(_ a: Int64, _ b: Int64) -> Int64? { a &+ b }
}

/// Sub: a − b
enum SubOperator: BinaryArithmeticOperator {
    @inline(__always) static func vector(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { a - b }
    @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { a - b }
    static func integer(_ a: Int64, _ b: Int64) -> Int64? { a &- b }
}

/// Mul: a · b
enum MulOperator: BinaryArithmeticOperator {
    @inline(__always) static func vector(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { a * b }
    @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { a * b }
    static func integer(_ a: Int64, _ b: Int64) -> Int64? { a &* b }
}

/// Div: a / b. On integers ONNX truncates toward zero (its reference computes `a / b` and casts back), as C does.
enum DivOperator: BinaryArithmeticOperator {
    @inline(__always) static func vector(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { a / b }
    @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { a / b }
    static func integer(_ a: Int64, _ b: Int64) -> Int64? {
        guard b != 0 else { return nil }
        return a.dividedReportingOverflow(by: b).partialValue
    }
}

/// Min: min(a, b); NaN in either operand gives NaN (as NumPy's `minimum` and ONNX's reference).
enum MinOperator: BinaryArithmeticOperator {
    @inline(__always) static func vector(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
        b.replacing(with: a, where: (a .< b) .| (a .!= a))
    }
    @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { a < b || a != a ? a : b }
    static func integer(_ a: Int64, _ b: Int64) -> Int64? { Swift.min(a, b) }
    static var isVariadic: Bool { true }
}

/// Max: max(a, b); NaN in either operand gives NaN.
enum MaxOperator: BinaryArithmeticOperator {
    @inline(__always) static func vector(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
        b.replacing(with: a, where: (a .> b) .| (a .!= a))
    }
    @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { a > b || a != a ? a : b }
    static func integer(_ a: Int64, _ b: Int64) -> Int64? { Swift.max(a, b) }
    static var isVariadic: Bool { true }
}
