import CKernels
import XCTest

/// uint8 depthwise convolution: the reference against a Swift transcription of the header (Int arithmetic and
/// the requantization formula), every variant against the reference bit for bit, with the input and output
/// against guard pages.
final class QU8DWConvTests: XCTestCase {
    struct Case: CustomStringConvertible {
        var params = spw_qu8_dwconv_params()
        var input: [UInt8] = []
        var weights: [Int8] = []
        var bias: [Int32]?
        var scales: [Float] = []

        var outputCount: Int { Int(params.channels * params.output_height * params.output_width) }

        var description: String {
            let p = params
            return "C=\(p.channels)[\(p.c_begin)..<\(p.c_end)] in=\(p.input_height)x\(p.input_width) "
                + "out=\(p.output_height)x\(p.output_width) k=\(p.kernel_height)x\(p.kernel_width) "
                + "s=\(p.stride_h),\(p.stride_w) d=\(p.dilation_h),\(p.dilation_w) pad=\(p.pad_top),\(p.pad_left) "
                + "zx=\(p.input_zero_point) zy=\(p.output_zero_point) q=[\(p.output_min), \(p.output_max)] "
                + "bias=\(bias != nil)"
        }
    }

    /// Returns nil when no window fits. `inputFill` / `weightFill` replace the random values.
    static func makeCase(
        _ rng: inout SplitMix64, channels: Int, height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int),
        dilation: (Int, Int) = (1, 1), pads: (top: Int, left: Int, bottom: Int, right: Int),
        inputZeroPoint: UInt8? = nil, outputZeroPoint: UInt8? = nil, clamp: (UInt8, UInt8) = (0, 255),
        channelRange: Range<Int>? = nil, withBias: Bool = true, inputFill: UInt8? = nil, weightFill: Int8? = nil,
        levels: Float = 100
    ) -> Case? {
        let oh = windowOutputSize(input: height, kernel: kernel.0, stride: stride.0, dilation: dilation.0,
                                  padBefore: pads.top, padAfter: pads.bottom)
        let ow = windowOutputSize(input: width, kernel: kernel.1, stride: stride.1, dilation: dilation.1,
                                  padBefore: pads.left, padAfter: pads.right)
        guard oh > 0, ow > 0 else { return nil }
        var c = Case()
        c.params.channels = channels
        c.params.input_height = height
        c.params.input_width = width
        c.params.output_height = oh
        c.params.output_width = ow
        c.params.kernel_height = kernel.0
        c.params.kernel_width = kernel.1
        c.params.stride_h = stride.0
        c.params.stride_w = stride.1
        c.params.dilation_h = dilation.0
        c.params.dilation_w = dilation.1
        c.params.pad_top = pads.top
        c.params.pad_left = pads.left
        c.params.input_zero_point = inputZeroPoint ?? UInt8(rng.int(0...255))
        c.params.output_zero_point = outputZeroPoint ?? UInt8(rng.int(0...255))
        c.params.output_min = clamp.0
        c.params.output_max = clamp.1
        let range = channelRange ?? 0..<channels
        c.params.c_begin = range.lowerBound
        c.params.c_end = range.upperBound
        let inputCount = channels * height * width, weightCount = channels * kernel.0 * kernel.1
        c.input = inputFill.map { [UInt8](repeating: $0, count: inputCount) } ?? rng.bytes(inputCount)
        c.weights = (0..<weightCount).map { _ in weightFill ?? Int8(truncatingIfNeeded: rng.next() >> 56) }
        c.bias = withBias ? (0..<channels).map { _ in Int32(rng.int(-30000...30000)) } : nil
        // Random sums have a standard deviation of about 74 * 74 * sqrt(taps).
        let multiplier = levels / (5500 * Float(kernel.0 * kernel.1).squareRoot())
        c.scales = (0..<channels).map { _ in multiplier * (0.5 + Float(rng.int(0...1000)) / 1000) }
        return c
    }

    static func run(_ fn: spw_qu8_dwconv_ukernel_fn, _ c: Case, atEnd: Bool = true) -> [UInt8] {
        var params = c.params
        let input = GuardedBytes(c.input, atEnd: atEnd)
        let weights = GuardedBuffer<Int8>(c.weights, atEnd: atEnd)
        let bias = c.bias.map { GuardedBuffer<Int32>($0, atEnd: atEnd) }
        let scales = GuardedFloats(c.scales, atEnd: atEnd)
        let output = GuardedBytes([UInt8](repeating: 0xA5, count: c.outputCount), atEnd: atEnd)
        fn(&params, input.pointer, weights.pointer, bias.map { UnsafePointer($0.pointer) }, scales.pointer,
           output.pointer)
        return output.array
    }

    static var reference: spw_qu8_dwconv_ukernel_fn {
        KernelRegistry.reference(of: SPW_OP_QU8_DWCONV).fn.qu8_dwconv!
    }
    var variants: [spw_kernel_info] { KernelRegistry.testableVariants(of: SPW_OP_QU8_DWCONV) }

    /// Straight from the header: padding taps read the input zero point.
    static func naive(_ c: Case) -> [UInt8] {
        let p = c.params
        let (ih, iw, oh, ow) = (Int(p.input_height), Int(p.input_width), Int(p.output_height), Int(p.output_width))
        let (kh, kw) = (Int(p.kernel_height), Int(p.kernel_width))
        var out = [UInt8](repeating: 0xA5, count: c.outputCount)
        for ch in Int(p.c_begin)..<Int(p.c_end) {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var sum = Int(c.bias?[ch] ?? 0)
                    for ky in 0..<kh {
                        for kx in 0..<kw {
                            let iy = oy * Int(p.stride_h) - Int(p.pad_top) + ky * Int(p.dilation_h)
                            let ix = ox * Int(p.stride_w) - Int(p.pad_left) + kx * Int(p.dilation_w)
                            let inside = iy >= 0 && iy < ih && ix >= 0 && ix < iw
                            let x = inside ? Int(c.input[(ch * ih + iy) * iw + ix]) : Int(p.input_zero_point)
                            sum += Int(c.weights[(ch * kh + ky) * kw + kx]) * (x - Int(p.input_zero_point))
                        }
                    }
                    out[(ch * oh + oy) * ow + ox] = QS8GemmTests.requantize(
                        Int32(truncatingIfNeeded: sum), c.scales[ch], zeroPoint: p.output_zero_point,
                        min: p.output_min, max: p.output_max)
                }
            }
        }
        return out
    }

    @discardableResult
    func check(_ c: Case, variants: [spw_kernel_info], file: StaticString = #filePath, line: UInt = #line) -> Bool {
        let expected = Self.run(Self.reference, c)
        for variant in variants {
            for atEnd in [true, false] {
                let actual = Self.run(variant.fn.qu8_dwconv!, c, atEnd: atEnd)
                if let i = actual.indices.first(where: { actual[$0] != expected[$0] }) {
                    XCTFail("\(KernelRegistry.name(variant)) \(c): element \(i): got \(actual[i]), expected "
                        + "\(expected[i])", file: file, line: line)
                    return false
                }
            }
        }
        return true
    }

    // MARK: - Reference semantics

    func testReferenceMatchesDefinition() {
        var rng = SplitMix64(seed: 400)
        var tested = 0
        while tested < 100 {
            guard let c = Self.makeCase(
                &rng, channels: rng.int(1...3), height: rng.int(1...9), width: rng.int(1...11),
                kernel: (rng.int(1...5), rng.int(1...5)), stride: (rng.int(1...3), rng.int(1...3)),
                dilation: (rng.int(1...2), rng.int(1...2)),
                pads: (rng.int(0...3), rng.int(0...3), rng.int(0...3), rng.int(0...3)),
                inputZeroPoint: [0, 255, nil][tested % 3], clamp: tested % 4 == 0 ? (20, 230) : (0, 255),
                withBias: tested % 5 != 0, levels: [100, 1000, 10][tested % 3])
            else { continue }
            tested += 1
            let actual = Self.run(Self.reference, c), expected = Self.naive(c)
            if let i = actual.indices.first(where: { actual[$0] != expected[$0] }) {
                return XCTFail("reference \(c): element \(i): got \(actual[i]), expected \(expected[i])")
            }
        }
    }

    // MARK: - Variants against the reference

    /// Every width up to 40 and around the 16- and 32-output vectors, for the MobileNet shapes (3x3 and 5x5,
    /// strides 1 and 2) and others (1x1, 7x7, 3x1, 1x3 stride 2, dilated 3x3, stride 3, even kernels).
    func testWidthSweep() {
        var rng = SplitMix64(seed: 401)
        let widths = Array(1...40) + [47, 48, 49, 63, 64, 65, 112]
        let shapes: [(k: (Int, Int), s: Int, d: Int)] = [
            ((3, 3), 1, 1), ((3, 3), 2, 1), ((5, 5), 1, 1), ((5, 5), 2, 1), ((1, 1), 1, 1), ((7, 7), 1, 1),
            ((3, 1), 1, 1), ((1, 3), 2, 1), ((3, 3), 1, 2), ((3, 3), 3, 1), ((2, 4), 2, 1),
        ]
        let variants = self.variants
        var index = 0
        for width in widths {
            for shape in shapes {
                index += 1
                let padH = shape.k.0 / 2 * shape.d, padW = shape.k.1 / 2 * shape.d
                guard let c = Self.makeCase(
                    &rng, channels: 2, height: 4 + shape.s, width: width, kernel: shape.k, stride: (shape.s, shape.s),
                    dilation: (shape.d, shape.d), pads: (padH, padW, padH, padW), withBias: index % 3 != 0)
                else { continue }
                if !check(c, variants: variants) { return }
            }
        }
    }

    /// Random kernels, strides up to 4, dilations, pads up to and beyond the kernel, channel sub-ranges, clamps.
    func testRandomConfigurations() {
        var rng = SplitMix64(seed: 402)
        let variants = self.variants
        var tested = 0
        while tested < 300 {
            let channels = rng.int(1...4)
            let begin = rng.int(0...channels - 1)
            guard let c = Self.makeCase(
                &rng, channels: channels, height: rng.int(1...14), width: rng.int(1...70),
                kernel: rng.bool() ? (rng.int(1...7), rng.int(1...7)) : [(3, 3), (5, 5)][rng.int(0...1)],
                stride: (rng.int(1...4), rng.int(1...4)),
                dilation: rng.int(0...3) == 0 ? (rng.int(1...3), rng.int(1...3)) : (1, 1),
                pads: (rng.int(0...6), rng.int(0...6), rng.int(0...6), rng.int(0...6)),
                clamp: rng.bool() ? (0, 255) : (UInt8(rng.int(0...120)), UInt8(rng.int(130...255))),
                channelRange: begin..<rng.int(begin...channels), withBias: rng.int(0...3) != 0,
                levels: [30, 100, 1000][rng.int(0...2)])
            else { continue }
            tested += 1
            if !check(c, variants: variants) { return }
        }
    }

    /// Dilations as wide as the row or wider (the AVX2 kernel's paired rows have pairs with one column inside the
    /// input on both sides, or only such pairs), with pads up to the dilated kernel, strides 1 to 3.
    func testWideDilations() {
        var rng = SplitMix64(seed: 405)
        let variants = self.variants
        for width in [1, 2, 3, 5, 8, 17] {
            for dilation in [2, 3, 5, 9] {
                for stride in 1...3 {
                    let pad = rng.int(0...2 * dilation)
                    guard let c = Self.makeCase(
                        &rng, channels: 2, height: 6, width: width, kernel: (3, rng.int(2...3)), stride: (1, stride),
                        dilation: (rng.int(1...2), dilation), pads: (2, pad, 2, rng.int(0...2 * dilation)))
                    else { continue }
                    if !check(c, variants: variants) { return }
                }
            }
        }
    }

    /// All inputs 255 or 0 against all weights -128 or 127, zero points 0 and 255 (the largest sums of each sign,
    /// and padding that is not zero), saturating multipliers.
    func testExtremeValues() {
        var rng = SplitMix64(seed: 403)
        let variants = self.variants
        for inputFill: UInt8 in [255, 0] {
            for weightFill: Int8 in [-128, 127] {
                for zeroPoint: UInt8 in [0, 255] {
                    for (k, s) in [(3, 1), (5, 2), (7, 1)] {
                        guard let c = Self.makeCase(
                            &rng, channels: 2, height: 9, width: 37, kernel: (k, k), stride: (s, s),
                            pads: (k / 2, k / 2, k / 2, k / 2), inputZeroPoint: zeroPoint,
                            outputZeroPoint: 255 - zeroPoint,
                            inputFill: inputFill, weightFill: weightFill, levels: k == 5 ? 1e5 : 100)
                        else { continue }
                        let actual = Self.run(Self.reference, c)
                        XCTAssertEqual(actual, Self.naive(c), "reference \(c)")
                        if !check(c, variants: variants) { return }
                    }
                }
            }
        }
    }

    /// Rows wider than the AVX2 kernel's 1024-output chunks, a dilation too wide for its buffers and a kernel too
    /// wide for its tables (the scalar path); the dispatching entry point.
    func testWideRowsAndDispatch() {
        var rng = SplitMix64(seed: 404)
        let variants = self.variants
        for (width, k, s, d) in [(2100, 3, 1, 1), (2100, 3, 2, 1), (3000, 5, 3, 1), (9000, 3, 1, 4000)] {
            guard let c = Self.makeCase(&rng, channels: 1, height: 3, width: width, kernel: (k, k), stride: (s, s),
                                        dilation: (1, d), pads: (1, 1, 1, 1))
            else { return XCTFail("no case") }
            if !check(c, variants: variants) { return }
        }
        // A kernel row of 131 taps (more pairs than the AVX2 kernel unrolls into its tables: the scalar path).
        guard let wide = Self.makeCase(&rng, channels: 2, height: 4, width: 200, kernel: (2, 131), stride: (1, 1),
                                       pads: (1, 65, 0, 65))
        else { return XCTFail("no case") }
        if !check(wide, variants: variants) { return }
        guard let c = Self.makeCase(&rng, channels: 3, height: 10, width: 13, kernel: (3, 3), stride: (1, 1),
                                    pads: (1, 1, 1, 1))
        else { return XCTFail("no case") }
        XCTAssertEqual(Self.run({ spw_qu8_dwconv($0, $1, $2, $3, $4, $5) }, c), Self.run(Self.reference, c))
    }
}
