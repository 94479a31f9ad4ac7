import CKernels
import XCTest

/// GEMM epilogue: variants must match the reference exactly (one add, one clamp per element).
final class BiasActTests: XCTestCase {
    static func run(_ fn: spw_f32_bias_act_ukernel_fn, _ p: spw_f32_bias_act_params, data: [Float],
                    bias: [Float]?) -> [Float] {
        var params = p
        var y = data
        bias.withOptionalPointer { b in y.withUnsafeMutableBufferPointer { fn(&params, b, $0.baseAddress) } }
        return y
    }

    func testVariantsMatchReference() {
        var rng = SplitMix64(seed: 21)
        let reference = KernelRegistry.reference(of: SPW_OP_F32_BIAS_ACT).fn.f32_bias_act!
        let variants = KernelRegistry.testableVariants(of: SPW_OP_F32_BIAS_ACT)
        let colsList = Array(0...17) + [31, 32, 33, 47, 48, 49, 63, 64, 65, 127, 196, 3136]
        let clamps: [(Float, Float)] = [(-.infinity, .infinity), (0, .infinity), (0, 6), (-1e30, 1e-30)]
        for cols in colsList {
            for (index, clamp) in clamps.enumerated() {
                let rows = 1 + (cols + index) % 5
                let stride = cols + (index % 2) * rng.int(0...9)
                var p = spw_f32_bias_act_params()
                p.rows = rows
                p.cols = cols
                p.row_stride = stride
                p.output_min = clamp.0
                p.output_max = clamp.1
                let scale: Float = index == 3 ? 1e30 : 8
                // Elements between rows (stride > cols) and after the block hold the sentinel: untouched.
                var data = [Float](repeating: sentinel, count: rows * stride + guardCount)
                for r in 0..<rows { for c in 0..<cols { data[r * stride + c] = rng.nextSignedUnitFloat() * scale } }
                let bias: [Float]? = index == 1 ? nil : rng.floats(rows, scale: scale)
                let expected = Self.run(reference, p, data: data, bias: bias)
                for variant in variants {
                    let actual = Self.run(variant.fn.f32_bias_act!, p, data: data, bias: bias)
                    if !assertIdentical(actual, expected, "\(KernelRegistry.name(variant)) rows=\(rows) "
                        + "cols=\(cols) stride=\(stride) clamp=\(clamp)") { return }
                }
            }
        }
    }

    /// With a residual: (y + bias) + residual, then the clamp; variants bit-identical to the reference, separate
    /// residual (against a guard page) or in place.
    func testResidualVariantsMatchReference() {
        var rng = SplitMix64(seed: 22)
        let reference = KernelRegistry.reference(of: SPW_OP_F32_BIAS_ACT).fn.f32_bias_act!
        let all = [KernelRegistry.reference(of: SPW_OP_F32_BIAS_ACT)]
            + KernelRegistry.testableVariants(of: SPW_OP_F32_BIAS_ACT)
        for cols in [1, 5, 8, 9, 17, 33, 49, 64, 65, 196] {
            for (index, clamp) in [(-Float.infinity, Float.infinity), (0, .infinity), (0, 6)].enumerated() {
                let rows = 1 + (cols + index) % 4
                let stride = cols + index
                let residualStride = cols + 2 * index
                var p = spw_f32_bias_act_params()
                p.rows = rows
                p.cols = cols
                p.row_stride = stride
                p.output_min = clamp.0
                p.output_max = clamp.1
                var data = [Float](repeating: sentinel, count: rows * stride + guardCount)
                for r in 0..<rows { for c in 0..<cols { data[r * stride + c] = rng.nextSignedUnitFloat() * 8 } }
                let bias: [Float]? = index == 1 ? nil : rng.floats(rows, scale: 8)
                let residual = rng.floats((rows - 1) * residualStride + cols, scale: 8)
                let guarded = GuardedFloats(residual, atEnd: true)
                p.residual = UnsafePointer(guarded.pointer)
                p.residual_stride = residualStride
                var expected = data
                for r in 0..<rows {
                    for c in 0..<cols {
                        let y = data[r * stride + c] + (bias?[r] ?? 0)
                        expected[r * stride + c] = min(max(y + residual[r * residualStride + c], clamp.0), clamp.1)
                    }
                }
                XCTAssertEqual(Self.run(reference, p, data: data, bias: bias), expected, "reference cols=\(cols)")
                // In place: the data is its own residual.
                var inPlace = p
                inPlace.residual_stride = stride
                var doubled = data
                for r in 0..<rows {
                    for c in 0..<cols {
                        let x = data[r * stride + c], y = x + (bias?[r] ?? 0)
                        doubled[r * stride + c] = min(max(y + x, clamp.0), clamp.1)
                    }
                }
                for variant in all {
                    let fn = variant.fn.f32_bias_act!, name = KernelRegistry.name(variant)
                    var y = data
                    y.withUnsafeMutableBufferPointer { buffer in
                        inPlace.residual = UnsafePointer(buffer.baseAddress!)
                        bias.withOptionalPointer { b in fn(&inPlace, b, buffer.baseAddress) }
                    }
                    guard assertIdentical(Self.run(fn, p, data: data, bias: bias), expected, "\(name) cols=\(cols)"),
                          assertIdentical(y, doubled, "\(name) in place cols=\(cols)")
                    else { return }
                }
            }
        }
    }

    func testReferenceSemantics() {
        var p = spw_f32_bias_act_params()
        p.rows = 2
        p.cols = 3
        p.row_stride = 4
        p.output_min = 0
        p.output_max = 6
        let y = Self.run({ spw_f32_bias_act($0, $1, $2) }, p, data: [1, -2, 7, 99, -1, 0.5, 3, 99], bias: [0.5, -1])
        XCTAssertEqual(y, [1.5, 0, 6, 99, 0, 0, 2, 99])
    }
}
