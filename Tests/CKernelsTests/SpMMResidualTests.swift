import CKernels
import XCTest

/// The SpMM residual (a fused residual Add, and the way callers split rows into runs of input channels): every
/// variant against the reference, in place and out of place, and the reference against its definition.
final class SpMMResidualTests: XCTestCase {
    /// `fn` on case `c` with a residual laid out [rows][residualStride], its last element against a guard page
    /// (`nil`: the output itself, in place — `output` holds the residual then).
    static func run(_ fn: spw_f32_spmm_ukernel_fn, _ c: SpMMTests.Case, residual: [Float]?, residualStride: Int,
                    output initial: [Float], bias: [Float]? = nil, clamp: (Float, Float)? = nil) -> [Float] {
        let input = GuardedFloats(c.input, atEnd: true)
        let guarded = residual.map { GuardedFloats($0, atEnd: true) }
        var output = initial
        output.withUnsafeMutableBufferPointer { out in
            var p = spw_f32_spmm_params()
            p.rows = c.rows
            p.pixels = c.pixels
            p.output_stride = c.outputStride
            p.output_min = (clamp ?? c.clamp).0
            p.output_max = (clamp ?? c.clamp).1
            p.residual = guarded.map { UnsafePointer($0.pointer) } ?? UnsafePointer(out.baseAddress!)
            p.residual_stride = guarded != nil ? residualStride : c.outputStride
            c.rowPointers.withUnsafeBufferPointer { rowPointers in
                c.offsets.withUnsafeBufferPointer { offsets in
                    c.values.withUnsafeBufferPointer { values in
                        (bias ?? c.bias).withOptionalPointer { b in
                            fn(&p, input.pointer, rowPointers.baseAddress, offsets.baseAddress, values.baseAddress,
                               b, out.baseAddress)
                        }
                    }
                }
            }
        }
        return output
    }

    /// A residual of `rows` rows of `stride` elements, exactly as long as the kernel may read.
    static func residual(_ rng: inout SplitMix64, rows: Int, pixels: Int, stride: Int) -> [Float] {
        rng.floats((rows - 1) * stride + pixels, scale: 2)
    }

    var variants: [spw_kernel_info] { KernelRegistry.testableVariants(of: SPW_OP_F32_SPMM) }

    func testReferenceAddsResidualBeforeClamp() {
        var rng = SplitMix64(seed: 51)
        for index in 0..<40 {
            let c = SpMMTests.makeCase(
                &rng, rows: rng.int(1...6), pixels: rng.int(1...40), columns: rng.int(1...30),
                sparsity: [0, 0.5, 0.9][index % 3], style: index % 2 == 0 ? .conv1x1 : .arbitrary,
                clamp: SpMMTests.clamps[index % 4], withBias: index % 5 != 0)
            let stride = c.pixels + rng.int(0...4)
            let residual = Self.residual(&rng, rows: c.rows, pixels: c.pixels, stride: stride)
            let blank = [Float](repeating: sentinel, count: c.outputCount)
            let actual = Self.run(SpMMTests.reference, c, residual: residual, residualStride: stride, output: blank)
            var unclamped = c
            unclamped.clamp = (-.infinity, .infinity)
            let sums = SpMMTests.naive(unclamped)
            var expected = blank
            var scale = SpMMTests.errorScale(c)
            for r in 0..<c.rows {
                for p in 0..<c.pixels {
                    let i = r * c.outputStride + p
                    let value = Float(Double(sums[i]) + Double(residual[r * stride + p]))
                    expected[i] = min(max(value, c.clamp.0), c.clamp.1)
                    scale[i] += abs(residual[r * stride + p])
                }
            }
            if !assertClose(actual, expected, scale: scale, "reference with residual \(c)") { return }
        }
    }

    /// Every variant equals the reference up to FMA contraction, with a separate residual and in place; in place
    /// equals out of place bit for bit.
    func testVariantsMatchReference() {
        var rng = SplitMix64(seed: 52)
        let all = [KernelRegistry.reference(of: SPW_OP_F32_SPMM)] + variants
        for index in 0..<120 {
            let c = SpMMTests.makeCase(
                &rng, rows: rng.int(1...9), pixels: [1, 7, 8, 9, 49, 63, 64, 65, 100, 197][index % 10],
                columns: rng.int(1...60), sparsity: [0, 0.5, 0.9, 1][index % 4],
                style: index % 2 == 0 ? .conv1x1 : .arbitrary, clamp: SpMMTests.clamps[index % 4],
                withBias: index % 3 != 0, prefix: index % 3)
            let stride = c.pixels + rng.int(0...5)
            let residual = Self.residual(&rng, rows: c.rows, pixels: c.pixels, stride: stride)
            let blank = [Float](repeating: sentinel, count: c.outputCount)
            // In place: the output starts as the residual, in the output's own layout.
            var preset = blank
            for r in 0..<c.rows { for p in 0..<c.pixels { preset[r * c.outputStride + p] = residual[r * stride + p] } }
            let expected = Self.run(SpMMTests.reference, c, residual: residual, residualStride: stride, output: blank)
            var scale = SpMMTests.errorScale(c)
            for i in scale.indices where preset[i] != sentinel { scale[i] += abs(preset[i]) }
            for variant in all {
                let fn = variant.fn.f32_spmm!, name = KernelRegistry.name(variant)
                let separate = Self.run(fn, c, residual: residual, residualStride: stride, output: blank)
                let inPlace = Self.run(fn, c, residual: nil, residualStride: 0, output: preset)
                guard assertClose(separate, expected, scale: scale, "\(name) \(c)"),
                      assertIdentical(inPlace, separate, "\(name) in place \(c)")
                else { return }
            }
        }
    }

    /// A row's nonzeros split into two runs — the first call with the bias and no clamp, the second adding to the
    /// output in place and clamping — give the whole product up to rounding, for every variant.
    func testRunsOfNonzerosAddUp() {
        var rng = SplitMix64(seed: 53)
        let all = [KernelRegistry.reference(of: SPW_OP_F32_SPMM)] + variants
        for index in 0..<40 {
            let c = SpMMTests.makeCase(
                &rng, rows: rng.int(1...7), pixels: rng.int(1...150), columns: rng.int(2...50), sparsity: 0.5,
                style: .conv1x1, clamp: SpMMTests.clamps[index % 4], withBias: index % 2 == 0, prefix: 0)
            // Run 0: the first half of every row; run 1: the rest. Row pointers of each run index the same arrays.
            var first = c, second = c
            first.rowPointers = []
            second.rowPointers = []
            var cut: [UInt32] = []
            for r in 0..<c.rows {
                let begin = c.rowPointers[r], end = c.rowPointers[r + 1]
                cut.append(begin + (end - begin) / 2)
            }
            // A CSR per run needs contiguous rows: copy the nonzeros run-major.
            var offsets: [UInt32] = [], values: [Float] = []
            for run in 0..<2 {
                var pointers: [UInt32] = []
                for r in 0..<c.rows {
                    pointers.append(UInt32(offsets.count))
                    let range = run == 0 ? Int(c.rowPointers[r])..<Int(cut[r]) : Int(cut[r])..<Int(c.rowPointers[r + 1])
                    offsets += range.map { c.offsets[$0] }
                    values += range.map { c.values[$0] }
                }
                pointers.append(UInt32(offsets.count))
                if run == 0 { first.rowPointers = pointers } else { second.rowPointers = pointers }
            }
            first.offsets = offsets
            first.values = values
            second.offsets = offsets
            second.values = values
            let scale = SpMMTests.errorScale(c)
            for variant in all {
                let fn = variant.fn.f32_spmm!
                let whole = SpMMTests.run(fn, c)
                var partial = SpMMTests.run(fn, { var f = first; f.clamp = (-.infinity, .infinity); return f }())
                partial = Self.run(fn, second, residual: nil, residualStride: 0, output: partial,
                                   bias: [Float](repeating: 0, count: c.rows))
                guard assertClose(partial, whole, scale: scale, "\(KernelRegistry.name(variant)) runs \(c)") else { return }
            }
        }
    }
}
