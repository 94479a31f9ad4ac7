import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import Sparrow

final class ActivationOpsTests: XCTestCase {
    typealias R = OpRunner

    private func sigmoid(_ x: Float) -> Float { Float(1 / (1 + Glibc.exp(-Double(x)))) }

    /// Values with negatives, zeros, odd lengths and extremes, at lengths around the vector widths.
    private func inputs() -> [HostValue] {
        [1, 7, 8, 9, 16, 17, 31, 1003].map { R.random([$0], seed: UInt64($0), low: -12, high: 12) }
            + [R.floats([-0.0, 0, -1e30, 1e30, -100, 100, -88.7, 88.7, 1e-30, -1e-30])]
    }

    private func check(_ kind: OpKind, _ attributes: [String: Attribute] = [:], relative: Float = 0, absolute: Float = 0,
                       _ reference: (Float) -> Float, file: StaticString = #filePath, line: UInt = #line) throws {
        for input in inputs() {
            let output = try R.run(kind, [input], attributes)[0]
            XCTAssertEqual(output.shape, input.shape, file: file, line: line)
            R.assertClose(output.floats, input.floats.map(reference), relative: relative, absolute: absolute,
                          "\(kind) \(input.shape)", file: file, line: line)
        }
    }

    func testPiecewiseLinearActivations() throws {
        try check(.relu) { Swift.max(0, $0) }
        try check(.leakyRelu) { $0 < 0 ? 0.01 * $0 : $0 }
        try check(.leakyRelu, ["alpha": .float(0.3)]) { $0 < 0 ? 0.3 * $0 : $0 }
        try check(.hardSigmoid, relative: 1e-7) { Swift.max(0, Swift.min(1, 0.2 * $0 + 0.5)) }
        try check(.hardSigmoid, ["alpha": .float(0.25), "beta": .float(0.4)], relative: 1e-7) {
            Swift.max(0, Swift.min(1, 0.25 * $0 + 0.4))
        }
        try check(.hardSwish, relative: 1e-6) { $0 * Swift.max(0, Swift.min(1, $0 * (1 / 6 as Float) + 0.5)) }
        let nan = try R.run(.relu, [R.floats([.nan, -1, 2])])[0].floats
        XCTAssertTrue(nan[0].isNaN)
        XCTAssertEqual(Array(nan[1...]), [0, 2])
        XCTAssertEqual(try R.evaluate(.relu, [R.ints([-3, 0, 4])])?[0].ints, [0, 0, 4])
    }

    func testSmoothActivationsMatchGlibc() throws {
        try check(.sigmoid, relative: 4e-7, absolute: 1e-37) { self.sigmoid($0) }
        try check(.tanh, relative: 3e-7, absolute: 1e-37) { tanhf($0) }
        try check(.silu, relative: 5e-7, absolute: 1e-37) { $0 * self.sigmoid($0) }
        try check(.gelu, absolute: 2e-6) { Float(0.5 * Double($0) * (1 + Glibc.erf(Double($0) / 2.0.squareRoot()))) }
        try check(.gelu, ["approximate": .string("tanh")], relative: 1e-6, absolute: 2e-6) {
            let x = Double($0)
            return Float(0.5 * x * (1 + Glibc.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x))))
        }
        R.assertThrows("invalid") { try R.infer(.gelu, [R.floats([1])], ["approximate": .string("fast")]) }
    }

    func testClipBoundsAreOptionalPlanTimeInputs() throws {
        let x = R.random([2, 3, 13], seed: 3, low: -10, high: 10)
        let low = R.floats([-1], [])
        let high = R.floats([6], [])
        func run(_ inputs: [HostValue?]) throws -> [Float] {
            try R.run(.clip, inputs, known: Set(1..<inputs.count))[0].floats
        }
        XCTAssertEqual(try run([x, low, high]), x.floats.map { Swift.min(6, Swift.max(-1, $0)) })
        XCTAssertEqual(try run([x, nil, high]), x.floats.map { Swift.min(6, $0) })
        XCTAssertEqual(try run([x, low]), x.floats.map { Swift.max(-1, $0) })
        XCTAssertEqual(try run([x]), x.floats)
        // min > max gives max, as ONNX Runtime does.
        XCTAssertEqual(try run([x, high, low]), x.floats.map { _ in -1 })
        R.assertThrows("unsupported") { try R.run(.clip, [x, low, high], known: [1]) }
        R.assertThrows("invalid") { try R.run(.clip, [x, R.floats([0, 1])], known: [1]) }
    }

    func testPReluSlopeBroadcastsPerChannel() throws {
        let x = R.random([2, 3, 5, 7], seed: 4, low: -5, high: 5)
        for slopeShape in [[3, 1, 1], [1], [7], [1, 3, 1, 1], [2, 3, 5, 7]] {
            let slope = R.random(slopeShape, seed: 5, low: 0, high: 1)
            let output = try R.run(.pRelu, [x, slope], known: [1])[0]
            XCTAssertEqual(output.shape, x.shape)
            let expected = (0..<x.count).map { i -> Float in
                let value = x.floats[i]
                return value < 0 ? value * slope.floats[R.broadcastIndex(i, output: x.shape, operand: slopeShape)] : value
            }
            XCTAssertEqual(output.floats, expected, "slope \(slopeShape)")
        }
        R.assertThrows("invalid") { try R.infer(.pRelu, [x, R.floats([1, 2], [2])]) }
        R.assertThrows("invalid") { try R.infer(.pRelu, [R.floats([1, 2, 3], [3]), R.floats([1, 2, 3], [1, 3])]) }
    }

    func testLargeActivationWithTwoThreadsMatchesSingleThread() throws {
        let x = R.random([3, 33_333], seed: 6, low: -8, high: 8)
        for kind in [OpKind.sigmoid, .tanh, .relu, .gelu] {
            XCTAssertEqual(try R.run(kind, [x], threads: 2)[0].floats, try R.run(kind, [x], threads: 1)[0].floats, "\(kind)")
        }
    }

    func testFusedActivationKernels() {
        let source = R.random([101], seed: 7, low: -8, high: 8).floats
        let cases: [(FusedActivation, Float, Float, (Float) -> Float, Float)] = [
            (.none, 0, 0, { $0 }, 0),
            (.relu, 0, 0, { Swift.max(0, $0) }, 0),
            (.clip, 0, 6, { Swift.min(6, Swift.max(0, $0)) }, 0),
            (.leakyRelu, 0.1, 0, { $0 < 0 ? 0.1 * $0 : $0 }, 0),
            (.sigmoid, 0, 0, { self.sigmoid($0) }, 4e-7),
            (.hardSigmoid, 0.2, 0.5, { Swift.max(0, Swift.min(1, 0.2 * $0 + 0.5)) }, 1e-7),
            (.hardSwish, 0, 0, { $0 * Swift.max(0, Swift.min(1, $0 * (1 / 6 as Float) + 0.5)) }, 1e-6),
            (.silu, 0, 0, { $0 * self.sigmoid($0) }, 5e-7),
            (.tanh, 0, 0, { tanhf($0) }, 3e-7),
        ]
        for (activation, alpha, beta, reference, tolerance) in cases {
            var data = source
            data.withUnsafeMutableBufferPointer {
                ActivationKernels.apply(activation, alpha: alpha, beta: beta, to: $0.baseAddress!, count: $0.count)
            }
            R.assertClose(data, source.map(reference), relative: tolerance, absolute: 1e-37, "\(activation)")
        }
        XCTAssertEqual(FusedActivation.allCases.count, cases.count, "every fused activation is tested")
    }

    /// SIMDMath against Glibc on dense grids: the accuracy the doc comments promise.
    func testVectorMathAccuracy() {
        func worst(_ low: Float, _ high: Float, steps: Int, _ f: (SIMD8<Float>) -> SIMD8<Float>,
                   _ reference: (Double) -> Double, ulps: Bool) -> (Double, Float) {
            var worst = 0.0
            var at: Float = 0
            var i = 0
            while i < steps {
                var v = SIMD8<Float>()
                for lane in 0..<8 { v[lane] = low + (high - low) * Float(i + lane) / Float(steps) }
                let result = f(v)
                for lane in 0..<8 {
                    let expected = reference(Double(v[lane]))
                    var error = Swift.abs(Double(result[lane]) - expected)
                    if ulps { error /= Double(Swift.max(Float(expected).ulp, Float.leastNonzeroMagnitude)) }
                    if expected.isInfinite { error = Double(result[lane]) == expected ? 0 : .infinity }
                    if error > worst {
                        worst = error
                        at = v[lane]
                    }
                }
                i += 8
            }
            return (worst, at)
        }
        let checks: [(String, Float, Float, (SIMD8<Float>) -> SIMD8<Float>, (Double) -> Double, Bool, Double)] = [
            ("exp", -104, 89, SIMDMath.exp, { Glibc.exp($0) }, true, 2),
            ("log", 1e-38, 1e4, SIMDMath.log, { Glibc.log($0) }, true, 2),
            ("log near 1", 0.5, 2, SIMDMath.log, { Glibc.log($0) }, true, 2),
            ("tanh", -10, 10, SIMDMath.tanh, { Glibc.tanh($0) }, true, 2),
            ("sigmoid", -100, 30, SIMDMath.sigmoid, { 1 / (1 + Glibc.exp(-$0)) }, true, 3),
            ("erf", -6, 6, SIMDMath.erf, { Glibc.erf($0) }, false, 1e-6),
        ]
        for (name, low, high, f, reference, ulps, bound) in checks {
            let (error, at) = worst(low, high, steps: 400_000, f, reference, ulps: ulps)
            XCTAssertLessThanOrEqual(error, bound, "\(name) worst error \(error) at \(at)")
        }
        // Against the float libm functions the tests are written with.
        for x: Float in [-87, -20, -1, -0.5, 0, 0.3, 1, 5, 20, 80] {
            let v = SIMD8<Float>(repeating: x)
            XCTAssertEqual(SIMDMath.exp(v)[0], expf(x), accuracy: 2 * expf(x).ulp)
            XCTAssertEqual(SIMDMath.tanh(v)[0], tanhf(x), accuracy: 2 * Swift.max(tanhf(x).ulp, Float.leastNormalMagnitude))
            XCTAssertEqual(SIMDMath.erf(v)[0], erff(x), accuracy: 1e-6)
        }
        XCTAssertEqual(SIMDMath.exp(SIMD8(repeating: 89))[0], .infinity)
        XCTAssertEqual(SIMDMath.exp(SIMD8(repeating: -200))[0], 0)
        XCTAssertTrue(SIMDMath.exp(SIMD8(repeating: .nan))[0].isNaN)
        XCTAssertEqual(SIMDMath.log(SIMD8(repeating: 0))[0], -.infinity)
        XCTAssertTrue(SIMDMath.log(SIMD8(repeating: -1))[0].isNaN)
        XCTAssertEqual(SIMDMath.sigmoid(SIMD8(repeating: -200))[0], 0)
        XCTAssertEqual(SIMDMath.sigmoid(SIMD8(repeating: 200))[0], 1)
        XCTAssertEqual(SIMDMath.tanh(SIMD8(repeating: -.infinity))[0], -1)
    }
}
