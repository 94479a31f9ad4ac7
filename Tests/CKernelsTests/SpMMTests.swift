import CKernels
import XCTest

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sparse x dense product: every variant the CPU supports against the scalar reference, and the reference against
/// the definition in the header.
final class SpMMTests: XCTestCase {
    /// Where a nonzero's run of the input starts.
    enum OffsetStyle: CustomStringConvertible {
        /// offset = column * plane, as for a 1x1 convolution (plane >= pixels).
        case conv1x1
        /// Any offset in range, unsorted and repeating (as for a direct k x k convolution over a padded input).
        case arbitrary

        var description: String { self == .conv1x1 ? "1x1" : "arbitrary" }
    }

    /// A CSR matrix, its dense operand and the call's shape. The matrix's entries are preceded by `prefix` and
    /// followed by a few entries of other rows (NaN values, as a row-sliced call would see): row_pointers[0] is
    /// `prefix`, not 0, and an output that read them would be NaN.
    struct Case: CustomStringConvertible {
        var rows = 0
        var pixels = 0
        var outputStride = 0
        var clamp: (Float, Float) = (-.infinity, .infinity)
        var rowPointers: [UInt32] = []
        var offsets: [UInt32] = []
        var values: [Float] = []
        var bias: [Float]?
        /// Exactly max(offset) + pixels elements: the last element is the last one the kernel may read.
        var input: [Float] = []
        var label = ""

        var nonzeros: Int { Int(rowPointers[rows] - rowPointers[0]) }
        var outputCount: Int { rows * outputStride + guardCount }

        var description: String {
            "\(label) rows=\(rows) pixels=\(pixels) stride=\(outputStride) nnz=\(nonzeros) "
                + "first=\(rowPointers[0]) clamp=[\(clamp.0), \(clamp.1)] bias=\(bias != nil)"
        }
    }

    static func unit(_ rng: inout SplitMix64) -> Double { Double(rng.next() >> 11) / 9_007_199_254_740_992 }

    /// Each of `columns` candidate entries of a row is kept with probability 1 - sparsity; `denseRow` keeps them all
    /// (unless sparsity is 1: every row empty).
    static func makeCase(
        _ rng: inout SplitMix64, rows: Int, pixels: Int, columns: Int, sparsity: Double, style: OffsetStyle,
        clamp: (Float, Float) = (-.infinity, .infinity), withBias: Bool = true, denseRow: Int? = nil,
        prefix: Int = 5, valueScale: Float = 1, inputScale: Float = 1
    ) -> Case {
        var c = Case()
        c.rows = rows
        c.pixels = pixels
        c.outputStride = pixels + rng.int(0...5)
        c.clamp = clamp
        let plane = pixels + rng.int(0...3)
        let span = 3 * pixels + rng.int(0...60)
        c.offsets = [UInt32](repeating: 0, count: prefix)
        c.values = [Float](repeating: .nan, count: prefix)
        c.rowPointers = [UInt32(prefix)]
        for r in 0..<rows {
            for column in 0..<columns {
                let keep = sparsity < 1 && (r == denseRow || unit(&rng) >= sparsity)
                guard keep else { continue }
                c.offsets.append(UInt32(style == .conv1x1 ? column * plane : rng.int(0...span)))
                c.values.append(rng.nextSignedUnitFloat() * valueScale)
            }
            c.rowPointers.append(UInt32(c.offsets.count))
        }
        let maxOffset = Int(c.offsets[prefix...].max() ?? 0)
        c.offsets += [0, 1, 2]
        c.values += [.nan, .nan, .nan]
        c.bias = withBias ? rng.floats(rows, scale: valueScale * inputScale) : nil
        c.input = rng.floats(maxOffset + pixels, scale: inputScale)
        c.label = "\(style) cols=\(columns) sparsity=\(sparsity)"
        return c
    }


    /// Calls `fn` for rows `rowRange` and pixels `pixelRange` of `c` (the whole case by default), slicing the
    /// pointers as a caller splitting the work across threads would, into `output` (rows x stride + guard).
    static func call(
        _ fn: spw_f32_spmm_ukernel_fn, _ c: Case, input: GuardedFloats, output: inout [Float],
        rowRange: Range<Int>? = nil, pixelRange: Range<Int>? = nil
    ) {
        let rows = rowRange ?? 0..<c.rows, pixels = pixelRange ?? 0..<c.pixels
        var params = spw_f32_spmm_params()
        params.rows = rows.count
        params.pixels = pixels.count
        params.output_stride = c.outputStride
        params.output_min = c.clamp.0
        params.output_max = c.clamp.1
        c.rowPointers.withUnsafeBufferPointer { rowPointers in
            c.offsets.withUnsafeBufferPointer { offsets in
                c.values.withUnsafeBufferPointer { values in
                    c.bias.withOptionalPointer { bias in
                        output.withUnsafeMutableBufferPointer { out in
                            fn(&params, input.pointer + pixels.lowerBound, rowPointers.baseAddress! + rows.lowerBound,
                               offsets.baseAddress, values.baseAddress, bias.map { $0 + rows.lowerBound },
                               out.baseAddress! + rows.lowerBound * c.outputStride + pixels.lowerBound)
                        }
                    }
                }
            }
        }
    }

    static func run(_ fn: spw_f32_spmm_ukernel_fn, _ c: Case, inputAtEnd: Bool = true) -> [Float] {
        let input = GuardedFloats(c.input, atEnd: inputAtEnd)
        var output = [Float](repeating: sentinel, count: c.outputCount)
        call(fn, c, input: input, output: &output)
        return output
    }

    static var reference: spw_f32_spmm_ukernel_fn { KernelRegistry.reference(of: SPW_OP_F32_SPMM).fn.f32_spmm! }
    var variants: [spw_kernel_info] { KernelRegistry.testableVariants(of: SPW_OP_F32_SPMM) }

    /// The reference on magnitudes without clamp: the sum of |terms| of each output, the scale of its rounding
    /// error.
    static func errorScale(_ c: Case) -> [Float] {
        var m = c
        m.input = c.input.map { abs($0) }
        m.values = c.values.map { abs($0) }
        m.bias = c.bias.map { $0.map { abs($0) } }
        m.clamp = (-.infinity, .infinity)
        return run(reference, m)
    }

    /// Only outputs [0, pixels) of each row were written.
    func assertOnlyPixelsWritten(_ output: [Float], _ c: Case, _ context: String,
                                 file: StaticString = #filePath, line: UInt = #line) -> Bool {
        for i in 0..<output.count {
            let r = i / c.outputStride, p = i % c.outputStride
            let inside = r < c.rows && p < c.pixels
            if !inside && output[i] != sentinel {
                XCTFail("\(context): element \(i) (row \(r), column \(p)) outside the output was written",
                        file: file, line: line)
                return false
            }
        }
        return true
    }

    /// Every testable variant against the reference, with the input against the guard page after it and before it.
    @discardableResult
    func check(_ c: Case, variants: [spw_kernel_info], file: StaticString = #filePath, line: UInt = #line) -> Bool {
        let expected = Self.run(Self.reference, c)
        guard assertOnlyPixelsWritten(expected, c, "reference \(c)", file: file, line: line) else { return false }
        XCTAssertEqual(Self.run(Self.reference, c, inputAtEnd: false), expected, "reference \(c)", file: file,
                       line: line)
        let scale = Self.errorScale(c)
        for variant in variants {
            for atEnd in [true, false] {
                let actual = Self.run(variant.fn.f32_spmm!, c, inputAtEnd: atEnd)
                if !assertClose(actual, expected, scale: scale, "\(KernelRegistry.name(variant)) \(c)",
                                file: file, line: line) {
                    return false
                }
            }
        }
        return true
    }

    static let clamps: [(Float, Float)] = [(-.infinity, .infinity), (0, .infinity), (0, 6), (-0.25, 0.25)]

    // MARK: - Reference semantics

    /// Naive Double-precision product, straight from the definition in the header.
    static func naive(_ c: Case) -> [Float] {
        var out = [Float](repeating: sentinel, count: c.outputCount)
        for r in 0..<c.rows {
            for p in 0..<c.pixels {
                var acc = Double(c.bias?[r] ?? 0)
                for j in Int(c.rowPointers[r])..<Int(c.rowPointers[r + 1]) {
                    acc += Double(c.values[j]) * Double(c.input[Int(c.offsets[j]) + p])
                }
                out[r * c.outputStride + p] = min(max(Float(acc), c.clamp.0), c.clamp.1)
            }
        }
        return out
    }

    func testReferenceMatchesDefinition() {
        var rng = SplitMix64(seed: 41)
        for index in 0..<80 {
            let c = Self.makeCase(
                &rng, rows: rng.int(1...6), pixels: rng.int(1...40), columns: rng.int(1...30),
                sparsity: [0, 0.5, 0.9][index % 3], style: index % 2 == 0 ? .conv1x1 : .arbitrary,
                clamp: Self.clamps[index % 4], withBias: index % 5 != 0)
            if !assertClose(Self.run(Self.reference, c), Self.naive(c), scale: Self.errorScale(c), "reference \(c)") {
                return
            }
        }
        // Empty rows give clamp(bias); a NULL bias is zero.
        var c = Self.makeCase(&rng, rows: 3, pixels: 5, columns: 4, sparsity: 1, style: .conv1x1, clamp: (0, 6))
        c.bias = [-1, 2.5, 9]
        XCTAssertEqual(Array(Self.run(Self.reference, c)[0..<c.rows * c.outputStride].enumerated()
            .filter { $0.offset % c.outputStride < c.pixels }.map { $0.element }),
            [0, 0, 0, 0, 0, 2.5, 2.5, 2.5, 2.5, 2.5, 6, 6, 6, 6, 6])
        c.bias = nil
        c.clamp = (-.infinity, .infinity)
        XCTAssertEqual(Self.run(Self.reference, c).filter { $0 != sentinel }, [Float](repeating: 0, count: 15))
    }

    // MARK: - Variants against the reference

    /// Rows 1, 3, 17 (odd: the 2-row variants' single last row); pixels around every vector and tile size;
    /// sparsities 0, 50, 90, 99 and 100% (all rows empty); 1x1-convolution and arbitrary offsets; clamps; no bias;
    /// one fully dense row; row_pointers[0] != 0.
    func testShapeSweep() {
        var rng = SplitMix64(seed: 42)
        let variants = self.variants
        let pixelCounts = [1, 7, 8, 15, 31, 33, 63, 64, 65, 100, 197]
        var index = 0
        for rows in [1, 3, 17] {
            for pixels in pixelCounts {
                for sparsity in [0, 0.5, 0.9, 0.99, 1.0] {
                    for style in [OffsetStyle.conv1x1, .arbitrary] {
                        index += 1
                        let c = Self.makeCase(
                            &rng, rows: rows, pixels: pixels, columns: [1, 13, 40][index % 3], sparsity: sparsity,
                            style: style, clamp: Self.clamps[index % 4], withBias: index % 3 != 1,
                            denseRow: rows >= 3 ? 1 : nil, prefix: index % 2 == 0 ? 0 : 1 + index % 7)
                        if !check(c, variants: variants) { return }
                    }
                }
            }
        }
    }

    /// Long rows (hundreds of nonzeros: the unrolled nonzero loops), rows of very different lengths next to each
    /// other (the interleaved pair loop and its tails), and random shapes.
    func testRowLengths() {
        var rng = SplitMix64(seed: 43)
        let variants = self.variants
        for pixels in [5, 32, 64, 77, 129] {
            let c = Self.makeCase(&rng, rows: 4, pixels: pixels, columns: 700, sparsity: 0.2, style: .arbitrary)
            if !check(c, variants: variants) { return }
            // Rows alternate between empty, one nonzero and many.
            var skewed = Self.makeCase(&rng, rows: 9, pixels: pixels, columns: 60, sparsity: 0.1, style: .conv1x1,
                                       clamp: (0, 6))
            var pointers: [UInt32] = [skewed.rowPointers[0]]
            for r in 0..<skewed.rows {
                let available = Int(skewed.rowPointers[skewed.rows]) - Int(pointers[r])
                let length = min(available, [0, 1, 50, 3, 0, 40, 2, 0, 100][r])
                pointers.append(pointers[r] + UInt32(length))
            }
            skewed.rowPointers = pointers
            if !check(skewed, variants: variants) { return }
        }
        for _ in 0..<150 {
            let c = Self.makeCase(
                &rng, rows: rng.int(1...12), pixels: rng.int(1...300), columns: rng.int(1...90),
                sparsity: [0, 0.3, 0.7, 0.95][rng.int(0...3)], style: rng.bool() ? .conv1x1 : .arbitrary,
                clamp: Self.clamps[rng.int(0...3)], withBias: rng.bool(), prefix: rng.int(0...9))
            if !check(c, variants: variants) { return }
        }
    }

    /// Splitting rows (row_pointers + r0, bias + r0, output + r0 * stride) or pixels (input + p0, output + p0)
    /// across calls gives bit-identical outputs for every variant, the reference included.
    func testSlicedCallsMatchWholeCall() {
        var rng = SplitMix64(seed: 44)
        let all = [KernelRegistry.reference(of: SPW_OP_F32_SPMM)] + variants
        for index in 0..<40 {
            let c = Self.makeCase(
                &rng, rows: rng.int(2...19), pixels: rng.int(2...150), columns: rng.int(1...50),
                sparsity: [0, 0.5, 0.9][index % 3], style: index % 2 == 0 ? .conv1x1 : .arbitrary,
                clamp: Self.clamps[index % 4], withBias: index % 4 != 3)
            let input = GuardedFloats(c.input, atEnd: true)
            for variant in all {
                let fn = variant.fn.f32_spmm!
                let whole = Self.run(fn, c)
                let rowSplit = rng.int(1...c.rows - 1)
                var byRows = [Float](repeating: sentinel, count: c.outputCount)
                Self.call(fn, c, input: input, output: &byRows, rowRange: rowSplit..<c.rows)
                Self.call(fn, c, input: input, output: &byRows, rowRange: 0..<rowSplit)
                let pixelSplit = rng.int(1...c.pixels - 1)
                var byPixels = [Float](repeating: sentinel, count: c.outputCount)
                Self.call(fn, c, input: input, output: &byPixels, pixelRange: pixelSplit..<c.pixels)
                Self.call(fn, c, input: input, output: &byPixels, pixelRange: 0..<pixelSplit)
                // Nothing at all: zero rows, zero pixels.
                Self.call(fn, c, input: input, output: &byPixels, rowRange: 1..<1)
                Self.call(fn, c, input: input, output: &byPixels, pixelRange: 3..<3)
                let name = KernelRegistry.name(variant)
                if !assertIdentical(byRows, whole, "\(name) rows split at \(rowSplit) \(c)")
                    || !assertIdentical(byPixels, whole, "\(name) pixels split at \(pixelSplit) \(c)") {
                    return
                }
            }
        }
    }

    /// Large and tiny magnitudes (no NaN from finite data under any clamp), and NaN / infinity in the input: a NaN
    /// sum stays NaN through the clamp, as in the reference.
    func testExtremeValues() {
        var rng = SplitMix64(seed: 45)
        let variants = self.variants
        for (valueScale, inputScale) in [(Float(1e30), Float(1e3)), (1e-20, 1e-18), (3e18, 3e18)] {
            for (index, clamp) in Self.clamps.enumerated() {
                let c = Self.makeCase(&rng, rows: 5, pixels: 45 + index * 9, columns: 30, sparsity: 0.5,
                                      style: .conv1x1, clamp: clamp, valueScale: valueScale, inputScale: inputScale)
                if !check(c, variants: variants) { return }
                for variant in variants {
                    let out = Self.run(variant.fn.f32_spmm!, c)
                    XCTAssertFalse(out.contains { $0.isNaN }, "\(KernelRegistry.name(variant)) NaN \(c)")
                }
            }
        }
        for clamp in Self.clamps {
            var c = Self.makeCase(&rng, rows: 6, pixels: 70, columns: 20, sparsity: 0.3, style: .arbitrary,
                                  clamp: clamp)
            for i in stride(from: 3, to: c.input.count, by: 37) { c.input[i] = [.nan, .infinity, -.infinity][i % 3] }
            let expected = Self.run(Self.reference, c)
            XCTAssertTrue(expected.contains { $0.isNaN }, "the case has NaN outputs")
            for variant in variants {
                let actual = Self.run(variant.fn.f32_spmm!, c)
                for i in 0..<expected.count {
                    let same = actual[i] == expected[i] || (actual[i].isNaN && expected[i].isNaN)
                        || (expected[i].isFinite && actual[i].isFinite)
                    if !same {
                        XCTFail("\(KernelRegistry.name(variant)) \(c): element \(i): got \(actual[i]), "
                            + "expected \(expected[i])")
                        return
                    }
                }
            }
        }
    }

    /// The dispatching entry point runs the selected table's kernel.
    func testDispatchMatchesReference() {
        var rng = SplitMix64(seed: 46)
        let c = Self.makeCase(&rng, rows: 7, pixels: 50, columns: 24, sparsity: 0.7, style: .conv1x1, clamp: (0, 6))
        let dispatched = Self.run({ spw_f32_spmm($0, $1, $2, $3, $4, $5, $6) }, c)
        _ = assertClose(dispatched, Self.run(Self.reference, c), scale: Self.errorScale(c), "dispatch \(c)")
    }
}
