#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Pow(X, Y) with broadcasting. The exponent of a CNN is nearly always one known scalar (x², x³, √x), which
/// runs as a multiply or square-root loop; any other exponent falls back to libm's `powf` per element.
struct PowOperator: Operator {
    static func infer(_ context: OpContext) throws -> [TensorType] {
        guard context.inputs.count == 2 else { throw context.fail("Pow needs 2 inputs, got \(context.inputs.count)") }
        let base = try context.input(0)
        let exponent = try context.input(1)
        return [TensorType(base.dtype, try HostElementwise.broadcastShape([base, exponent], context))]
    }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? {
        let output = try infer(context)[0]
        guard output.dtype.isInteger, output.dtype != .bool, context.allInputsKnown else { return nil }
        let base = try context.value(0, "base")
        let exponent = try context.value(1, "exponent")
        if !exponent.dtype.isInteger {
            let floats = HostElementwise.floats([base, exponent], shape: output.shape) { Float(pow(Double($0[0]), Double($0[1]))) }
            let ints = floats.floats.map { $0.isFinite ? Int64(exactly: $0.rounded(.towardZero)) ?? 0 : 0 }
            return [HostValue(ints: ints.map { HostElementwise.wrap($0, to: output.dtype) }, shape: output.shape, dtype: output.dtype)]
        }
        return [try HostElementwise.ints([base, exponent], shape: output.shape, dtype: output.dtype, context) {
            integerPower($0[0], $0[1])
        }]
    }

    /// base^exponent with wrap-around; a negative exponent truncates 1/base^|e| toward zero.
    static func integerPower(_ base: Int64, _ exponent: Int64) -> Int64 {
        if exponent < 0 {
            if base == 1 { return 1 }
            if base == -1 { return exponent & 1 == 0 ? 1 : -1 }
            return 0
        }
        var result: Int64 = 1
        var factor = base
        var remaining = exponent
        while remaining > 0 {
            if remaining & 1 == 1 { result = result &* factor }
            factor = factor &* factor
            remaining >>= 1
        }
        return result
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        let base = try context.input(0)
        let exponentType = try context.input(1)
        guard base.dtype == .float32 else {
            throw context.unsupported("Pow on \(base.dtype) runs only when its inputs are known at plan time")
        }
        let output = outputs[0]
        let pool = buffers.pool
        let out = buffers.output(0)
        let input = buffers.input(0)
        if let exponent = context.optionalValue(1), exponent.count == 1 {
            // One exponent: the output has the base's elements in the base's order (only size-1 axes differ).
            let y = exponent.asFloats[0]
            let count = output.count
            switch y {
            case 1: return { out.update(from: input, count: count) }
            case 2: return unary(PowSquareFunction.self, input, out, count, pool)
            case 3: return unary(PowCubeFunction.self, input, out, count, pool)
            case 0.5: return unary(PowHalfFunction.self, input, out, count, pool)
            case -1: return unary(ReciprocalOperator.self, input, out, count, pool)
            default: break
            }
        }
        var converted: HostFloatBuffer?
        if exponentType.dtype != .float32 {
            guard let exponent = context.optionalValue(1) else {
                throw context.unsupported("Pow with a \(exponentType.dtype) exponent needs the exponent at plan time")
            }
            converted = HostFloatBuffer(exponent.asFloats)
        }
        let pass = BinaryPass<PowFunction>(output: output.shape, aShape: base.shape, bShape: exponentType.shape,
                                           a: input, b: converted.map { UnsafePointer($0.pointer) } ?? buffers.input(1),
                                           out: out, pool: pool)
        return { withExtendedLifetime(converted) { pass.run() } }
    }

    private static func unary<F: UnaryElementFunction>(_ function: F.Type, _ input: UnsafePointer<Float>,
                                                       _ output: UnsafeMutablePointer<Float>, _ count: Int,
                                                       _ pool: ThreadPool) -> Kernel {
        let pass = UnaryPass<F>(input: input, output: output, count: count, pool: pool)
        return { pass.run() }
    }
}

/// x²
enum PowSquareFunction: UnaryElementFunction {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> { x * x }
}

/// x³
enum PowCubeFunction: UnaryElementFunction {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> { x * x * x }
}

/// x^0.5: √x, except that pow(−0, 0.5) = +0 and pow(−inf, 0.5) = +inf (C99 Annex F), where √ differs.
enum PowHalfFunction: UnaryElementFunction {
    @inline(__always) static func vector(_ x: SIMD8<Float>, _ p: UnaryParameters) -> SIMD8<Float> {
        (x.squareRoot() + 0).replacing(with: .infinity, where: x .== -.infinity)
    }
}

/// General x^y through libm, one element at a time (rare in CNNs; exactness over speed).
enum PowFunction: BinaryElementFunction {
    @inline(__always) static func vector(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
        var result = SIMD16<Float>()
        for lane in 0..<16 { result[lane] = powf(a[lane], b[lane]) }
        return result
    }
    @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { powf(a, b) }
}
