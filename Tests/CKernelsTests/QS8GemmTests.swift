import CKernels
import XCTest

/// Quantized matrix product: the packing against its documented layout, the scalar reference against a Swift
/// transcription of the header's formulas, and every variant the CPU supports against the reference, bit for bit.
final class QS8GemmTests: XCTestCase {
    static let qu8 = SPW_QS8_GEMM_OUTPUT_QU8
    static let f32 = SPW_QS8_GEMM_OUTPUT_F32
    static let s32 = SPW_QS8_GEMM_OUTPUT_S32
    static let outputTypes = [qu8, f32, s32]

    struct Case: CustomStringConvertible {
        var params = spw_qs8_gemm_params()
        /// [rows][depth]
        var weights: [Int8] = []
        /// Exactly (depth - 1) * input_stride + columns elements: the last one is the last the kernel may read.
        var input: [UInt8] = []
        var intBias: [Int32]?
        var floatBias: [Float]?
        var scales: [Float] = []
        var label = ""

        var rows: Int { Int(params.rows) }
        var columns: Int { Int(params.columns) }
        var depth: Int { Int(params.depth) }
        var outputStride: Int { Int(params.output_stride) }
        var elementSize: Int { params.output_type == SPW_QS8_GEMM_OUTPUT_QU8 ? 1 : 4 }
        /// Up to the last output of the last row: a store past it hits the guard page.
        var outputCount: Int { rows == 0 || columns == 0 ? 0 : (rows - 1) * outputStride + columns }

        var description: String {
            let p = params
            let type = ["qu8", "f32", "s32"][Int(p.output_type.rawValue)]
            return "\(label) \(type) M=\(p.rows) N=\(p.columns) K=\(p.depth) "
                + "strides=\(p.input_stride),\(p.output_stride) zx=\(p.input_zero_point) zy=\(p.output_zero_point) "
                + "q=[\(p.output_min), \(p.output_max)] "
                + "f=[\(p.float_min), \(p.float_max)] bias=\(intBias != nil || floatBias != nil)"
        }
    }

    /// Multipliers that spread random sums over about `levels` output levels.
    static func typicalMultiplier(depth: Int, levels: Float) -> Float {
        levels / (5500 * Float(max(depth, 1)).squareRoot())
    }

    static func makeCase(
        _ rng: inout SplitMix64, rows: Int, columns: Int, depth: Int, type: spw_qs8_gemm_output,
        inputZeroPoint: UInt8? = nil, outputZeroPoint: UInt8? = nil, clamp: (UInt8, UInt8) = (0, 255),
        floatClamp: (Float, Float) = (-.infinity, .infinity), withBias: Bool = true, inputFill: UInt8? = nil,
        weightFill: Int8? = nil, levels: Float = 200, strideSlack: Int? = nil
    ) -> Case {
        var c = Case()
        c.params.rows = rows
        c.params.columns = columns
        c.params.depth = depth
        c.params.input_stride = columns + (strideSlack ?? rng.int(0...3))
        c.params.output_stride = columns + (strideSlack ?? rng.int(0...3))
        c.params.output_type = type
        c.params.input_zero_point = inputZeroPoint ?? UInt8(rng.int(0...255))
        c.params.output_zero_point = outputZeroPoint ?? UInt8(rng.int(0...255))
        c.params.output_min = clamp.0
        c.params.output_max = clamp.1
        c.params.float_min = floatClamp.0
        c.params.float_max = floatClamp.1
        c.weights = (0..<rows * depth).map { _ in weightFill ?? Int8(truncatingIfNeeded: rng.next() >> 56) }
        let inputCount = depth == 0 ? 0 : (depth - 1) * Int(c.params.input_stride) + columns
        c.input = inputFill.map { [UInt8](repeating: $0, count: inputCount) } ?? rng.bytes(inputCount)
        let multiplier = typicalMultiplier(depth: depth, levels: levels)
        c.scales = (0..<rows).map { _ in multiplier * (0.5 + Float(rng.int(0...1000)) / 1000) }
        if withBias {
            if type == SPW_QS8_GEMM_OUTPUT_F32 {
                c.floatBias = rng.floats(rows, scale: 2)
            } else {
                c.intBias = (0..<rows).map { _ in Int32(rng.int(-20000...20000)) }
            }
        }
        return c
    }

    static func pack(_ c: Case) -> [UInt8] {
        var packed = [UInt8](repeating: 0xEE, count: spw_qs8_gemm_packed_size(c.params.rows, c.params.depth))
        packed.withUnsafeMutableBytes { spw_qs8_gemm_pack(c.params.rows, c.params.depth, c.weights, $0.baseAddress) }
        return packed
    }

    static let sentinelByte: UInt8 = 0xA5

    /// Output element bit patterns (uint8 widened), read back from the output buffer.
    static func decode(_ bytes: [UInt8], elementSize: Int) -> [UInt32] {
        guard elementSize == 4 else { return bytes.map { UInt32($0) } }
        return stride(from: 0, to: bytes.count, by: 4).map {
            UInt32(bytes[$0]) | UInt32(bytes[$0 + 1]) << 8 | UInt32(bytes[$0 + 2]) << 16 | UInt32(bytes[$0 + 3]) << 24
        }
    }

    static func sentinel(_ c: Case) -> UInt32 { c.elementSize == 1 ? 0xA5 : 0xA5A5_A5A5 }

    /// Runs `fn` on `c` with every buffer in guarded pages (placed at the end of their pages, or at the start).
    static func run(_ fn: spw_qs8_gemm_ukernel_fn, _ c: Case, atEnd: Bool = true, packed: [UInt8]? = nil) -> [UInt32] {
        let input = GuardedBytes(c.input, atEnd: atEnd)
        let weights = GuardedBytes(packed ?? pack(c), atEnd: atEnd)
        let scales = GuardedFloats(c.scales, atEnd: atEnd)
        let intBias = c.intBias.map { GuardedBuffer<Int32>($0, atEnd: atEnd) }
        let floatBias = c.floatBias.map { GuardedFloats($0, atEnd: atEnd) }
        let bias = intBias.map { UnsafeRawPointer($0.pointer) } ?? floatBias.map { UnsafeRawPointer($0.pointer) }
        let output = GuardedBytes(
            [UInt8](repeating: sentinelByte, count: c.outputCount * c.elementSize), atEnd: atEnd)
        var params = c.params
        fn(&params, input.pointer, weights.pointer, bias, scales.pointer, output.pointer)
        return decode(output.array, elementSize: c.elementSize)
    }

    static var reference: spw_qs8_gemm_ukernel_fn { KernelRegistry.reference(of: SPW_OP_QS8_GEMM).fn.qs8_gemm! }
    var variants: [spw_kernel_info] { KernelRegistry.testableVariants(of: SPW_OP_QS8_GEMM) }

    // MARK: - Swift transcription of the header

    /// The header's requantization, in Swift Float arithmetic (IEEE, never fused).
    static func requantize(_ acc: Int32, _ multiplier: Float, zeroPoint: UInt8, min qmin: UInt8, max qmax: UInt8)
        -> UInt8 {
        let lo = Float(Int(qmin) - Int(zeroPoint)), hi = Float(Int(qmax) - Int(zeroPoint))
        var v = Float(acc)
        v = v * multiplier
        v = v > lo ? v : lo
        v = v < hi ? v : hi
        return UInt8(Int(v.rounded(.toNearestOrEven)) + Int(zeroPoint))
    }

    static func naive(_ c: Case) -> [UInt32] {
        let p = c.params
        var out = [UInt32](repeating: sentinel(c), count: c.outputCount)
        for r in 0..<c.rows {
            for col in 0..<c.columns {
                var sum = Int64(c.intBias?[r] ?? 0)
                for k in 0..<c.depth {
                    let x = Int64(c.input[k * Int(p.input_stride) + col]) - Int64(p.input_zero_point)
                    sum += Int64(c.weights[r * c.depth + k]) * x
                }
                let acc = Int32(truncatingIfNeeded: sum)
                let value: UInt32
                switch p.output_type {
                case qu8:
                    value = UInt32(requantize(acc, c.scales[r], zeroPoint: p.output_zero_point, min: p.output_min,
                                              max: p.output_max))
                case f32:
                    var v = Float(acc)
                    v = v * c.scales[r]
                    v = v + (c.floatBias?[r] ?? 0)
                    v = v < p.float_min ? p.float_min : v
                    v = v > p.float_max ? p.float_max : v
                    value = v.bitPattern
                default:
                    value = UInt32(bitPattern: acc)
                }
                out[r * c.outputStride + col] = value
            }
        }
        return out
    }

    // MARK: - Checks

    /// Elements between columns and output_stride keep the sentinel.
    static func untouchedGaps(_ output: [UInt32], _ c: Case) -> Bool {
        output.enumerated().allSatisfy { $0.offset % c.outputStride < c.columns || $0.element == sentinel(c) }
    }

    static func firstMismatch(_ actual: [UInt32], _ expected: [UInt32], _ c: Case) -> String? {
        guard actual.count == expected.count else { return "count \(actual.count) != \(expected.count)" }
        for i in 0..<actual.count where actual[i] != expected[i] {
            return "element \(i) (row \(i / c.outputStride), column \(i % c.outputStride)): "
                + "got \(String(actual[i], radix: 16)), expected \(String(expected[i], radix: 16))"
        }
        return nil
    }

    /// Every variant against the reference, bit for bit, with the buffers at both ends of their pages.
    @discardableResult
    func check(_ c: Case, variants: [spw_kernel_info], file: StaticString = #filePath, line: UInt = #line) -> Bool {
        let packed = Self.pack(c)
        let expected = Self.run(Self.reference, c, packed: packed)
        guard Self.untouchedGaps(expected, c) else {
            XCTFail("reference wrote outside its outputs: \(c)", file: file, line: line)
            return false
        }
        for variant in variants {
            for atEnd in [true, false] {
                let actual = Self.run(variant.fn.qs8_gemm!, c, atEnd: atEnd, packed: packed)
                if let mismatch = Self.firstMismatch(actual, expected, c) {
                    XCTFail("\(KernelRegistry.name(variant)) \(c): \(mismatch)", file: file, line: line)
                    return false
                }
            }
        }
        return true
    }

    // MARK: - Packing and reference semantics

    /// The panels as sparrow_kernels.h documents them: row sums, then int16 pairs, zero padded.
    func testPackLayout() {
        var rng = SplitMix64(seed: 100)
        for (rows, depth) in [(1, 1), (3, 5), (8, 4), (9, 7), (17, 2), (5, 0), (0, 3)] {
            let weights = (0..<rows * depth).map { _ in Int8(truncatingIfNeeded: rng.next() >> 56) }
            let size = spw_qs8_gemm_packed_size(rows, depth)
            let panels = (rows + 7) / 8, panelBytes = 32 + 32 * ((depth + 1) / 2)
            XCTAssertEqual(size, panels * panelBytes, "size \(rows)x\(depth)")
            var packed = [UInt8](repeating: 0xEE, count: size)
            packed.withUnsafeMutableBytes { spw_qs8_gemm_pack(rows, depth, weights, $0.baseAddress) }
            func int16(_ o: Int) -> Int { Int(Int16(bitPattern: UInt16(packed[o]) | UInt16(packed[o + 1]) << 8)) }
            func int32(_ o: Int) -> Int {
                Int(Int32(bitPattern: UInt32(packed[o]) | UInt32(packed[o + 1]) << 8 | UInt32(packed[o + 2]) << 16
                    | UInt32(packed[o + 3]) << 24))
            }
            for p in 0..<panels {
                let base = p * panelBytes
                for i in 0..<8 {
                    let r = 8 * p + i
                    let w = { (k: Int) -> Int in r < rows && k < depth ? Int(weights[r * depth + k]) : 0 }
                    XCTAssertEqual(int32(base + 4 * i), (0..<depth).reduce(0) { $0 + w($1) }, "sum of row \(r)")
                    for j in 0..<(depth + 1) / 2 {
                        let o = base + 32 + 32 * j + 4 * i
                        XCTAssertEqual(int16(o), w(2 * j), "row \(r) k \(2 * j)")
                        XCTAssertEqual(int16(o + 2), w(2 * j + 1), "row \(r) k \(2 * j + 1)")
                    }
                }
            }
        }
    }

    func testReferenceMatchesDefinition() {
        var rng = SplitMix64(seed: 101)
        for index in 0..<120 {
            let type = Self.outputTypes[index % 3]
            let c = Self.makeCase(
                &rng, rows: rng.int(1...11), columns: rng.int(1...19), depth: rng.int(0...40), type: type,
                clamp: index % 4 == 0 ? (10, 200) : (0, 255),
                floatClamp: index % 5 == 0 ? (0, 6) : (-.infinity, .infinity), withBias: index % 7 != 0,
                levels: [200, 2000, 20][index % 3])
            if let mismatch = Self.firstMismatch(Self.run(Self.reference, c), Self.naive(c), c) {
                return XCTFail("reference \(c): \(mismatch)")
            }
        }
    }

    /// All 256 x 256 products (depth 1: a row per weight value, a column per input value) for zero points 0, 128
    /// and 255, as int32, requantized and dequantized: reference against the definition, variants against the
    /// reference.
    func testAllProducts() {
        var rng = SplitMix64(seed: 102)
        let variants = self.variants
        for zeroPoint: UInt8 in [0, 128, 255] {
            for type in Self.outputTypes {
                var c = Self.makeCase(&rng, rows: 256, columns: 256, depth: 1, type: type, inputZeroPoint: zeroPoint,
                                      withBias: zeroPoint == 128, strideSlack: 0)
                c.weights = (0..<256).map { Int8(truncatingIfNeeded: $0 - 128) }
                c.input = (0..<256).map { UInt8($0) }
                c.scales = (0..<256).map { 1 / Float(64 + $0) }
                c.label = "all products"
                if let mismatch = Self.firstMismatch(Self.run(Self.reference, c), Self.naive(c), c) {
                    return XCTFail("reference \(c): \(mismatch)")
                }
                if !check(c, variants: variants) { return }
            }
        }
    }

    /// Requantization rounds half to even, clamps to [output_min, output_max] and adds the zero point: hand-worked
    /// values (multiplier 0.5 puts every odd sum on a tie). The sum is the bias (one zero input).
    func testRequantizationRounding() {
        let sums: [Int32] = [1, 3, 5, -1, -3, -5, 0, 7, 600, -600, Int32.max, Int32.min]
        let expected: [UInt32] = [100, 102, 102, 100, 98, 98, 100, 104, 255, 0, 255, 0]
        func outputs(_ fn: spw_qs8_gemm_ukernel_fn, clamp: (UInt8, UInt8)) -> [UInt32] {
            sums.flatMap { sum -> [UInt32] in
                var c = Case()
                c.params.rows = 1
                c.params.columns = 1
                c.params.depth = 1
                c.params.input_stride = 1
                c.params.output_stride = 1
                c.params.output_type = SPW_QS8_GEMM_OUTPUT_QU8
                c.params.output_zero_point = 100
                c.params.output_min = clamp.0
                c.params.output_max = clamp.1
                c.weights = [1]
                c.input = [0]
                c.scales = [0.5]
                c.intBias = [sum]
                return Self.run(fn, c)
            }
        }
        for variant in [KernelRegistry.reference(of: SPW_OP_QS8_GEMM)] + variants {
            XCTAssertEqual(outputs(variant.fn.qs8_gemm!, clamp: (0, 255)), expected, KernelRegistry.name(variant))
            // A ReLU6-like clamp [zero point, zero point + 3].
            XCTAssertEqual(outputs(variant.fn.qs8_gemm!, clamp: (100, 103)), expected.map { min(max($0, 100), 103) },
                           KernelRegistry.name(variant))
        }
    }

    // MARK: - Variants against the reference

    /// Rows around the 8-row tile and panel, columns around the 8-column tile, depths odd and even, every output
    /// type, zero points 0, 255 and others, clamps, with and without bias.
    func testShapeSweep() {
        var rng = SplitMix64(seed: 103)
        let variants = self.variants
        var index = 0
        for rows in [1, 3, 4, 5, 7, 8, 9, 17, 33] {
            for columns in [1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 65] {
                for depth in [0, 1, 2, 3, 7, 17, 33, 65] {
                    index += 1
                    let c = Self.makeCase(
                        &rng, rows: rows, columns: columns, depth: depth, type: Self.outputTypes[index % 3],
                        inputZeroPoint: [0, 255, nil][index % 3 == 0 ? 2 : (index / 3) % 3],
                        outputZeroPoint: [0, 255, nil][(index / 2) % 3], clamp: index % 4 == 1 ? (5, 250) : (0, 255),
                        floatClamp: index % 4 == 2 ? (0, .infinity) : (-.infinity, .infinity),
                        withBias: index % 5 != 0)
                    if !check(c, variants: variants) { return }
                }
            }
        }
    }

    /// All inputs 255 or 0 against all weights -128 or 127, zero points 0 and 255 (the largest sums of each sign),
    /// depths up to 4099, and a depth past 65536 whose sums wrap around int32.
    func testExtremeValues() {
        var rng = SplitMix64(seed: 104)
        let variants = self.variants
        for inputFill: UInt8 in [255, 0] {
            for weightFill: Int8 in [-128, 127] {
                for zeroPoint: UInt8 in [0, 255] {
                    for type in Self.outputTypes {
                        for depth in [1, 2, 63, 4099] {
                            let c = Self.makeCase(
                                &rng, rows: 9, columns: 19, depth: depth, type: type, inputZeroPoint: zeroPoint,
                                outputZeroPoint: zeroPoint, withBias: depth != 63, inputFill: inputFill,
                                weightFill: weightFill, levels: depth == 2 ? 1e6 : 200)
                            if let mismatch = Self.firstMismatch(Self.run(Self.reference, c), Self.naive(c), c) {
                                return XCTFail("reference \(c): \(mismatch)")
                            }
                            if !check(c, variants: variants) { return }
                        }
                    }
                }
            }
        }
        // 255 * 127 * 70000 > 2^31: the int32 sum wraps, the same way everywhere.
        let c = Self.makeCase(&rng, rows: 3, columns: 9, depth: 70000, type: Self.s32, inputZeroPoint: 0,
                              withBias: false, inputFill: 255, weightFill: 127, strideSlack: 0)
        let out = Self.run(Self.reference, c)
        XCTAssertEqual(out[0], UInt32(truncatingIfNeeded: 255 * 127 * 70000))
        XCTAssertEqual(Self.firstMismatch(out, Self.naive(c), c), nil)
        check(c, variants: variants)
    }

    /// Depths around the AVX2 kernel's 1024-deep chunks, with more rows than its 256-row groups: the sums of a
    /// chunk wait on the stack for the next.
    func testDeepProducts() {
        var rng = SplitMix64(seed: 108)
        let variants = self.variants
        for depth in [1023, 1024, 1025, 2047, 2049, 3001] {
            for rows in [7, 263] {
                let c = Self.makeCase(&rng, rows: rows, columns: rows == 7 ? 13 : 3, depth: depth,
                                      type: Self.outputTypes[depth % 3])
                if !check(c, variants: variants) { return }
            }
        }
    }

    /// Random shapes, including a few network-sized ones.
    func testRandomShapes() {
        var rng = SplitMix64(seed: 105)
        let variants = self.variants
        for _ in 0..<150 {
            let c = Self.makeCase(
                &rng, rows: rng.int(1...40), columns: rng.int(1...100), depth: rng.int(0...150),
                type: Self.outputTypes[rng.int(0...2)], clamp: rng.bool() ? (0, 255) : (UInt8(rng.int(0...100)), 255),
                withBias: rng.bool(), levels: [20, 200, 5000][rng.int(0...2)])
            if !check(c, variants: variants) { return }
        }
        for (rows, depth, columns) in [(64, 32, 196), (24, 144, 49), (40, 27, 112)] {
            for type in Self.outputTypes {
                let c = Self.makeCase(&rng, rows: rows, columns: columns, depth: depth, type: type, clamp: (0, 255))
                if !check(c, variants: variants) { return }
            }
        }
    }

    /// Calls `fn` for rows `rows` and columns `columns` of `c`, offsetting the pointers as a caller splitting the
    /// work across threads would, into `output` (the whole call's output buffer).
    static func call(_ fn: spw_qs8_gemm_ukernel_fn, _ c: Case, packed: [UInt8], rows: Range<Int>, columns: Range<Int>,
                     output: inout [UInt8]) {
        var p = c.params
        p.rows = rows.count
        p.columns = columns.count
        let biasBytes = c.intBias.map { b in b.withUnsafeBytes { Array($0) } }
            ?? c.floatBias.map { b in b.withUnsafeBytes { Array($0) } }
        let e = c.elementSize
        c.input.withUnsafeBufferPointer { input in
            packed.withUnsafeBytes { packed in
                c.scales.withUnsafeBufferPointer { scales in
                    output.withUnsafeMutableBytes { out in
                        let run = { (bias: UnsafeRawPointer?) in
                            fn(&p, input.baseAddress! + columns.lowerBound,
                               packed.baseAddress! + spw_qs8_gemm_packed_size(rows.lowerBound, c.params.depth),
                               bias.map { $0 + 4 * rows.lowerBound }, scales.baseAddress! + rows.lowerBound,
                               out.baseAddress! + (rows.lowerBound * c.outputStride + columns.lowerBound) * e)
                        }
                        if let biasBytes {
                            biasBytes.withUnsafeBytes { run($0.baseAddress) }
                        } else {
                            run(nil)
                        }
                    }
                }
            }
        }
    }

    /// Splitting rows at a panel boundary (packed + spw_qs8_gemm_packed_size(r0, depth), bias + r0, scales + r0,
    /// output + r0 * stride) or columns anywhere (input + c0, output + c0) gives the whole call's outputs; empty
    /// calls write nothing.
    func testSlicedCallsMatchWholeCall() {
        var rng = SplitMix64(seed: 106)
        let all = [KernelRegistry.reference(of: SPW_OP_QS8_GEMM)] + variants
        for index in 0..<30 {
            let c = Self.makeCase(&rng, rows: rng.int(9...40), columns: rng.int(2...70), depth: rng.int(1...50),
                                  type: Self.outputTypes[index % 3], withBias: index % 4 != 3)
            let packed = Self.pack(c)
            for variant in all {
                let fn = variant.fn.qs8_gemm!
                let whole = Self.run(fn, c, packed: packed)
                let r0 = 8 * rng.int(1...(c.rows - 1) / 8), c0 = rng.int(1...c.columns - 1)
                var bytes = [UInt8](repeating: Self.sentinelByte, count: c.outputCount * c.elementSize)
                Self.call(fn, c, packed: packed, rows: r0..<c.rows, columns: 0..<c.columns, output: &bytes)
                Self.call(fn, c, packed: packed, rows: 0..<r0, columns: c0..<c.columns, output: &bytes)
                Self.call(fn, c, packed: packed, rows: 0..<r0, columns: 0..<c0, output: &bytes)
                Self.call(fn, c, packed: packed, rows: 0..<0, columns: 0..<c.columns, output: &bytes)
                Self.call(fn, c, packed: packed, rows: 0..<r0, columns: 3..<3, output: &bytes)
                let sliced = Self.decode(bytes, elementSize: c.elementSize)
                if let mismatch = Self.firstMismatch(sliced, whole, c) {
                    return XCTFail("\(KernelRegistry.name(variant)) split at row \(r0), column \(c0) \(c): \(mismatch)")
                }
            }
        }
    }

    /// The dispatching entry point runs the selected table's kernel; the S32 output reads no scales.
    func testDispatchMatchesReference() {
        var rng = SplitMix64(seed: 107)
        for type in Self.outputTypes {
            let c = Self.makeCase(&rng, rows: 13, columns: 37, depth: 29, type: type)
            XCTAssertEqual(Self.firstMismatch(Self.run({ spw_qs8_gemm($0, $1, $2, $3, $4, $5) }, c),
                                              Self.run(Self.reference, c), c), nil)
        }
        let c = Self.makeCase(&rng, rows: 5, columns: 11, depth: 6, type: Self.s32)
        let withoutScales = Self.run({ p, x, w, b, _, y in spw_qs8_gemm(p, x, w, b, nil, y) }, c)
        XCTAssertEqual(Self.firstMismatch(withoutScales, Self.naive(c), c), nil)
    }
}
