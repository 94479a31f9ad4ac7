/// Element conversions of Cast, shared by the plan-time evaluator and the run-time kernel. Integer narrowing
/// wraps (as numpy's astype); float → integer truncates toward zero and saturates, NaN gives 0 (ONNX leaves
/// both undefined; a defined answer never traps).
enum CastConversion {
    /// An integer value as the canonical value of integer type `target`.
    @inline(__always)
    static func narrow(_ value: Int64, to target: DType) -> Int64 {
        switch target {
        case .int8: return Int64(Int8(truncatingIfNeeded: value))
        case .uint8: return Int64(UInt8(truncatingIfNeeded: value))
        case .int32: return Int64(Int32(truncatingIfNeeded: value))
        case .bool: return value != 0 ? 1 : 0
        default: return value
        }
    }

    /// A float converted to integer type `target`.
    @inline(__always)
    static func integer(_ value: Float, to target: DType) -> Int64 {
        if target == .bool { return value != 0 ? 1 : 0 }
        guard !value.isNaN else { return 0 }
        let (low, high): (Float, Float)
        switch target {
        case .int8: (low, high) = (-128, 127)
        case .uint8: (low, high) = (0, 255)
        case .int32: (low, high) = (-2_147_483_648, 2_147_483_520)  // largest float below 2^31
        default: (low, high) = (-9_223_372_036_854_775_808, 9_223_371_487_098_961_920)  // below 2^63
        }
        return Int64(min(max(value, low), high).rounded(.towardZero))
    }

    /// A float as the nearest value of float type `target` (rounds to half precision for f16).
    @inline(__always)
    static func float(_ value: Float, to target: DType) -> Float {
        target == .float16 ? Float(halfBits: value.halfBits) : value
    }

    /// `value` converted to `target`.
    static func convert(_ value: HostValue, to target: DType) -> HostValue {
        switch (value.dtype.isInteger, target.isInteger) {
        case (true, true):
            return HostValue(ints: value.ints.map { narrow($0, to: target) }, shape: value.shape, dtype: target)
        case (true, false):
            return HostValue(floats: value.ints.map { float(Float($0), to: target) }, shape: value.shape, dtype: target)
        case (false, true):
            return HostValue(ints: value.floats.map { integer($0, to: target) }, shape: value.shape, dtype: target)
        case (false, false):
            return HostValue(floats: value.floats.map { float($0, to: target) }, shape: value.shape, dtype: target)
        }
    }
}
