import CKernels
import XCTest

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Depthwise convolution: every variant the CPU supports against the scalar reference, and the reference
/// against a naive Swift implementation.
final class DWConvTests: XCTestCase {
    struct Case: CustomStringConvertible {
        var params = spw_f32_dwconv_params()
        var input: [Float] = []
        var weights: [Float] = []
        var bias: [Float]?

        var outputCount: Int { Int(params.channels * params.output_height * params.output_width) }

        var description: String {
            let p = params
            return "C=\(p.channels)[\(p.c_begin)..<\(p.c_end)] in=\(p.input_height)x\(p.input_width) "
                + "out=\(p.output_height)x\(p.output_width) k=\(p.kernel_height)x\(p.kernel_width) "
                + "s=\(p.stride_h),\(p.stride_w) d=\(p.dilation_h),\(p.dilation_w) pad=\(p.pad_top),\(p.pad_left) "
                + "clamp=[\(p.output_min), \(p.output_max)] bias=\(bias != nil)"
        }
    }

    /// Builds a case; returns nil when the window does not fit.
    static func makeCase(
        _ rng: inout SplitMix64, channels: Int, height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int),
        dilation: (Int, Int) = (1, 1), pads: (top: Int, left: Int, bottom: Int, right: Int),
        clamp: (Float, Float) = (-.infinity, .infinity), channelRange: Range<Int>? = nil, withBias: Bool = true,
        inputScale: Float = 1, weightScale: Float = 1
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
        c.params.output_min = clamp.0
        c.params.output_max = clamp.1
        let range = channelRange ?? 0..<channels
        c.params.c_begin = range.lowerBound
        c.params.c_end = range.upperBound
        c.input = rng.floats(channels * height * width, scale: inputScale)
        c.weights = rng.floats(channels * kernel.0 * kernel.1, scale: weightScale)
        c.bias = withBias ? rng.floats(channels, scale: inputScale * weightScale) : nil
        return c
    }

    static func run(_ fn: spw_f32_dwconv_ukernel_fn, _ c: Case) -> [Float] {
        var params = c.params
        var output = [Float](repeating: sentinel, count: c.outputCount + guardCount)
        c.input.withUnsafeBufferPointer { input in
            c.weights.withUnsafeBufferPointer { weights in
                c.bias.withOptionalPointer { bias in
                    output.withUnsafeMutableBufferPointer { out in
                        fn(&params, input.baseAddress, weights.baseAddress, bias, out.baseAddress)
                    }
                }
            }
        }
        return output
    }

    static var reference: spw_f32_dwconv_ukernel_fn {
        KernelRegistry.reference(of: SPW_OP_F32_DWCONV).fn.f32_dwconv!
    }

    /// The reference on magnitudes without clamp: the scale of each output's rounding error.
    static func errorScale(_ c: Case) -> [Float] {
        var m = c
        m.input = c.input.map { abs($0) }
        m.weights = c.weights.map { abs($0) }
        m.bias = c.bias.map { $0.map { abs($0) } }
        m.params.output_min = -.infinity
        m.params.output_max = .infinity
        return run(reference, m)
    }

    /// Runs every testable variant on `c` and compares with the reference. Returns false on the first mismatch.
    @discardableResult
    func check(_ c: Case, variants: [spw_kernel_info], file: StaticString = #filePath, line: UInt = #line) -> Bool {
        let expected = Self.run(Self.reference, c)
        let scale = Self.errorScale(c)
        for variant in variants {
            let actual = Self.run(variant.fn.f32_dwconv!, c)
            if !assertClose(actual, expected, scale: scale, "\(KernelRegistry.name(variant)) \(c)",
                            file: file, line: line) {
                return false
            }
        }
        return true
    }

    var variants: [spw_kernel_info] { KernelRegistry.testableVariants(of: SPW_OP_F32_DWCONV) }

    // MARK: - Reference semantics

    /// Naive Double-precision depthwise convolution, straight from the definition in the header.
    static func naive(_ c: Case) -> [Float] {
        let p = c.params
        let (ih, iw, oh, ow) = (Int(p.input_height), Int(p.input_width), Int(p.output_height), Int(p.output_width))
        let (kh, kw) = (Int(p.kernel_height), Int(p.kernel_width))
        var out = [Float](repeating: sentinel, count: c.outputCount + guardCount)
        for ch in Int(p.c_begin)..<Int(p.c_end) {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var acc = Double(c.bias?[ch] ?? 0)
                    for ky in 0..<kh {
                        let iy = oy * Int(p.stride_h) - Int(p.pad_top) + ky * Int(p.dilation_h)
                        guard iy >= 0 && iy < ih else { continue }
                        for kx in 0..<kw {
                            let ix = ox * Int(p.stride_w) - Int(p.pad_left) + kx * Int(p.dilation_w)
                            guard ix >= 0 && ix < iw else { continue }
                            acc += Double(c.weights[(ch * kh + ky) * kw + kx])
                                * Double(c.input[(ch * ih + iy) * iw + ix])
                        }
                    }
                    out[(ch * oh + oy) * ow + ox] = min(max(Float(acc), p.output_min), p.output_max)
                }
            }
        }
        return out
    }

    func testReferenceMatchesDefinition() {
        var rng = SplitMix64(seed: 1)
        var tested = 0
        while tested < 60 {
            let k = (rng.int(1...5), rng.int(1...5))
            guard let c = Self.makeCase(
                &rng, channels: rng.int(1...3), height: rng.int(1...9), width: rng.int(1...11), kernel: k,
                stride: (rng.int(1...3), rng.int(1...3)), dilation: (rng.int(1...2), rng.int(1...2)),
                pads: (rng.int(0...3), rng.int(0...3), rng.int(0...3), rng.int(0...3)),
                clamp: rng.bool() ? (-0.5, 0.75) : (-.infinity, .infinity), withBias: rng.bool())
            else { continue }
            tested += 1
            if !assertClose(Self.run(Self.reference, c), Self.naive(c), scale: Self.errorScale(c), "reference \(c)") {
                return
            }
        }
    }

    // MARK: - Variants against the reference

    /// The specialised shapes (3x3 and 5x5, stride 1 and 2) and generic ones over every width up to 17, the tile
    /// sizes +-1 (8 and 16 lanes, and two vectors) and the MobileNet widths.
    func testWidthSweep() {
        var rng = SplitMix64(seed: 2)
        let widths = Array(1...17) + [23, 24, 25, 31, 32, 33, 47, 48, 49, 7, 14, 28, 56, 112]
        let shapes: [(k: (Int, Int), s: Int, d: Int)] = [
            ((3, 3), 1, 1), ((3, 3), 2, 1), ((5, 5), 1, 1), ((5, 5), 2, 1),
            ((1, 1), 1, 1), ((7, 7), 1, 1), ((3, 1), 1, 1), ((1, 3), 2, 1), ((3, 3), 1, 2), ((3, 3), 3, 1),
        ]
        let variants = self.variants
        for width in widths {
            for shape in shapes {
                let padH = shape.k.0 / 2 * shape.d, padW = shape.k.1 / 2 * shape.d
                guard let c = Self.makeCase(
                    &rng, channels: 2, height: 5 + shape.s, width: width, kernel: shape.k, stride: (shape.s, shape.s),
                    dilation: (shape.d, shape.d), pads: (padH, padW, padH, padW))
                else { continue }
                if !check(c, variants: variants) { return }
            }
        }
    }

    /// MobileNetV2 / EfficientNet layer shapes (fewer channels), with ReLU6.
    func testNetworkShapes() {
        var rng = SplitMix64(seed: 3)
        let variants = self.variants
        let shapes: [(c: Int, h: Int, k: Int, s: Int)] = [
            (3, 112, 3, 1), (3, 112, 3, 2), (4, 56, 3, 1), (4, 56, 3, 2), (6, 28, 3, 1), (8, 14, 3, 1),
            (40, 7, 3, 1), (4, 28, 5, 1), (4, 56, 5, 2), (8, 14, 5, 1), (16, 7, 5, 1), (4, 14, 5, 2),
        ]
        for shape in shapes {
            let pad = shape.k / 2
            // "SAME" padding with stride 2 on even sizes pads less before than after in TF exports.
            for asymmetric in [false, true] {
                let (before, after) = asymmetric && shape.s == 2 ? (pad - 1, pad) : (pad, pad)
                guard let c = Self.makeCase(
                    &rng, channels: shape.c, height: shape.h, width: shape.h, kernel: (shape.k, shape.k),
                    stride: (shape.s, shape.s), pads: (before, before, after, after), clamp: (0, 6))
                else { continue }
                if !check(c, variants: variants) { return }
            }
        }
    }

    /// Random kernels 1...7 in each dimension, strides 1...3, dilations 1...2, asymmetric pads up to and beyond
    /// the kernel size, channel sub-ranges, clamps and missing bias.
    func testRandomConfigurations() {
        var rng = SplitMix64(seed: 4)
        let variants = self.variants
        var tested = 0
        while tested < 400 {
            let kernel = rng.int(0...2) == 0 ? (rng.int(1...7), rng.int(1...7)) : [(3, 3), (5, 5)][rng.int(0...1)]
            let stride = rng.bool() ? (rng.int(1...2), rng.int(1...2)) : (rng.int(1...3), rng.int(1...3))
            let dilation = rng.int(0...3) == 0 ? (rng.int(1...2), rng.int(1...2)) : (1, 1)
            let channels = rng.int(1...4)
            let begin = rng.int(0...channels - 1)
            let clamps: [(Float, Float)] = [(-.infinity, .infinity), (0, .infinity), (0, 6), (-0.25, 0.25)]
            guard let c = Self.makeCase(
                &rng, channels: channels, height: rng.int(1...20), width: rng.int(1...40), kernel: kernel,
                stride: stride, dilation: dilation,
                pads: (rng.int(0...5), rng.int(0...5), rng.int(0...5), rng.int(0...5)),
                clamp: clamps[rng.int(0...3)], channelRange: begin..<rng.int(begin...channels),
                withBias: rng.int(0...3) != 0)
            else { continue }
            tested += 1
            if !check(c, variants: variants) { return }
        }
    }

    /// Large and tiny magnitudes; clamps must not produce NaN from finite data.
    func testExtremeValues() {
        var rng = SplitMix64(seed: 5)
        let variants = self.variants
        for (inputScale, weightScale) in [(Float(1e30), Float(1e3)), (1e-20, 1e-18), (3e18, 3e18)] {
            for k in [3, 5, 4] {
                for clamp: (Float, Float) in [(-.infinity, .infinity), (0, .infinity), (0, 6)] {
                    guard let c = Self.makeCase(
                        &rng, channels: 2, height: 9, width: 21, kernel: (k, k), stride: (1 + k % 2, 1 + k % 2),
                        pads: (k / 2, k / 2, k / 2, k / 2), clamp: clamp, inputScale: inputScale,
                        weightScale: weightScale)
                    else { continue }
                    if !check(c, variants: variants) { return }
                    for variant in variants {
                        let out = Self.run(variant.fn.f32_dwconv!, c)
                        XCTAssertFalse(out.contains { $0.isNaN }, "\(KernelRegistry.name(variant)) NaN \(c)")
                    }
                }
            }
        }
    }

    /// Pads larger than the kernel (output rows and columns that read only padding), inputs narrower than the
    /// kernel.
    func testPaddingOnlyWindows() {
        var rng = SplitMix64(seed: 6)
        let variants = self.variants
        for k in [1, 3, 5] {
            for s in [1, 2] {
                for (h, w) in [(1, 1), (2, 3), (4, 9), (6, 17)] {
                    for pad in [k, k + 2] {
                        guard let c = Self.makeCase(
                            &rng, channels: 2, height: h, width: w, kernel: (k, k), stride: (s, s),
                            pads: (pad, pad + 1, pad + 1, pad), clamp: (-1, 1))
                        else { continue }
                        if !check(c, variants: variants) { return }
                    }
                }
            }
        }
    }

    /// Rows wider than the unrolled path's zero row (1024 floats) take the generic path at the top and bottom.
    func testWideRows() {
        var rng = SplitMix64(seed: 7)
        let variants = self.variants
        for (k, s) in [(3, 1), (3, 2), (5, 1), (5, 2)] {
            guard let c = Self.makeCase(
                &rng, channels: 1, height: 4, width: 1030 + k, kernel: (k, k), stride: (s, s),
                pads: (k / 2, k / 2, k / 2, k / 2))
            else { continue }
            if !check(c, variants: variants) { return }
        }
    }

    /// The dispatching entry point runs the selected table's kernel.
    func testDispatchMatchesReference() {
        var rng = SplitMix64(seed: 8)
        guard let c = Self.makeCase(&rng, channels: 3, height: 10, width: 13, kernel: (3, 3), stride: (1, 1),
                                    pads: (1, 1, 1, 1), clamp: (0, 6))
        else { return XCTFail("no case") }
        let dispatched = Self.run({ spw_f32_dwconv($0, $1, $2, $3, $4) }, c)
        _ = assertClose(dispatched, Self.run(Self.reference, c), scale: Self.errorScale(c), "dispatch \(c)")
    }

    // MARK: - Specialised paths (3x3 and 5x5, stride 1 and 2, dilation 1)

    /// Paddings up to kernel/2: symmetric, none, and asymmetric ones whose output leaves the last row and column
    /// partly covered (more padding after than before, as TF "SAME" exports do with stride 2) or drops the last
    /// input row and column (less after).
    static func padVariants(_ k: Int) -> [(top: Int, left: Int, bottom: Int, right: Int)] {
        let h = k / 2
        return [(h, h, h, h), (0, 0, 0, 0), (h - 1, h - 1, h, h), (h, h, h - 1, h - 1), (h, h - 1, 0, h)]
    }

    /// Every specialised shape over the edge widths and heights (tile sizes +-1, 112), each padding, channel
    /// ranges that start past 0 and end before the last channel (groups of 8 channels and a remainder), the three
    /// clamps and a missing bias. `check` also verifies that nothing outside the channel range or past the output
    /// is written (the outputs start as sentinels).
    func testSpecialisedPathsEdgeSizes() {
        var rng = SplitMix64(seed: 9)
        let widths = [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 112]
        let heights = [1, 2, 3, 5, 14]
        let clamps: [(Float, Float)] = [(-.infinity, .infinity), (0, .infinity), (0, 6)]
        let variants = self.variants
        var index = 0
        for (k, s) in [(3, 1), (3, 2), (5, 1), (5, 2)] {
            for pads in Self.padVariants(k) {
                for height in heights {
                    for width in widths {
                        index += 1
                        let channels = 11
                        guard let c = Self.makeCase(
                            &rng, channels: channels, height: height, width: width, kernel: (k, k), stride: (s, s),
                            pads: pads, clamp: clamps[index % 3], channelRange: index % 3..<channels - index % 2,
                            withBias: index % 4 != 0)
                        else { continue }
                        if !check(c, variants: variants) { return }
                    }
                }
            }
        }
    }

    /// Rows narrower than 8 on images too tall to be taken whole: one partial vector per row, whose stores spill
    /// into the next row except at the end of the range.
    func testTallNarrowImages() {
        var rng = SplitMix64(seed: 10)
        let variants = self.variants
        for (k, s) in [(3, 1), (3, 2), (5, 1), (5, 2)] {
            for width in [1, 2, 3, 5, 7, 9] {
                for pads in Self.padVariants(k) {
                    guard let c = Self.makeCase(
                        &rng, channels: 10, height: 61, width: width, kernel: (k, k), stride: (s, s), pads: pads,
                        clamp: (0, 6), channelRange: 1..<9, withBias: width % 2 == 0)
                    else { continue }
                    if !check(c, variants: variants) { return }
                }
            }
        }
    }

    /// Widths on both sides of each path's limit (the rings and images on the stack): 3x3 stride 1 takes 4 rows
    /// per block up to 302 inputs, single rows up to 766, then the generic row; stride 2 and 5x5 take 8 channels
    /// per vector up to 56 outputs (5x5 stride 1: 64), then the row ring, then single rows.
    func testWidthsAcrossPathLimits() {
        var rng = SplitMix64(seed: 11)
        let variants = self.variants
        let cases: [(k: Int, s: Int, widths: [Int])] = [
            (3, 1, [300, 302, 303, 320, 766, 767, 800]),
            (3, 2, [112, 113, 128, 129, 334, 336, 340, 606, 608, 620]),
            (5, 1, [64, 65, 68, 380, 381, 508, 509, 520]),
            (5, 2, [112, 113, 428, 429, 440]),
        ]
        for shape in cases {
            for width in shape.widths {
                for pads in [Self.padVariants(shape.k)[0], Self.padVariants(shape.k)[2]] {
                    guard let c = Self.makeCase(
                        &rng, channels: 3, height: 6, width: width, kernel: (shape.k, shape.k),
                        stride: (shape.s, shape.s), pads: pads, clamp: (0, 6), channelRange: 1..<3)
                    else { continue }
                    if !check(c, variants: variants) { return }
                }
            }
        }
    }


    /// Runs `fn` on `c` with only the channel range's inputs, weights and biases in accessible memory (against a
    /// guard page after them, or before them), passing base pointers offset back by c_begin channels as a caller
    /// splitting channels across threads would.
    static func runGuarded(_ fn: spw_f32_dwconv_ukernel_fn, _ c: Case, atEnd: Bool) -> [Float] {
        let p = c.params
        let range = Int(p.c_begin)..<Int(p.c_end)
        let inSize = Int(p.input_height * p.input_width), taps = Int(p.kernel_height * p.kernel_width)
        let input = GuardedFloats(Array(c.input[range.lowerBound * inSize..<range.upperBound * inSize]), atEnd: atEnd)
        let weights = GuardedFloats(Array(c.weights[range.lowerBound * taps..<range.upperBound * taps]), atEnd: atEnd)
        let bias = c.bias.map { GuardedFloats(Array($0[range]), atEnd: atEnd) }
        var params = p
        var output = [Float](repeating: sentinel, count: c.outputCount + guardCount)
        output.withUnsafeMutableBufferPointer { out in
            fn(&params, UnsafePointer(input.pointer - range.lowerBound * inSize),
               UnsafePointer(weights.pointer - range.lowerBound * taps),
               bias.map { UnsafePointer($0.pointer - range.lowerBound) }, out.baseAddress)
        }
        return output
    }

    /// The specialised paths read nothing outside the channel range's inputs, weights and biases: a read past the
    /// last row of the last channel (or before the first of the first) faults.
    func testReadsStayInsideChannelRange() {
        var rng = SplitMix64(seed: 12)
        let variants = [KernelRegistry.reference(of: SPW_OP_F32_DWCONV)] + self.variants
        let sizes = [(1, 1), (2, 3), (5, 7), (3, 8), (14, 9), (5, 17), (7, 7), (14, 14), (14, 33), (3, 112), (40, 5)]
        for (k, s) in [(3, 1), (3, 2), (5, 1), (5, 2)] {
            for (index, size) in sizes.enumerated() {
                let pads = Self.padVariants(k)[index % 5]
                let (channels, range) = [(19, 3..<14), (9, 8..<9), (8, 0..<8)][index % 3]
                guard let c = Self.makeCase(
                    &rng, channels: channels, height: size.0, width: size.1, kernel: (k, k), stride: (s, s),
                    pads: pads, clamp: (0, 6), channelRange: range, withBias: index % 4 != 3)
                else { continue }
                let expected = Self.run(Self.reference, c)
                let scale = Self.errorScale(c)
                for variant in variants {
                    for atEnd in [true, false] {
                        let actual = Self.runGuarded(variant.fn.f32_dwconv!, c, atEnd: atEnd)
                        if !assertClose(actual, expected, scale: scale,
                                        "\(KernelRegistry.name(variant)) guarded atEnd=\(atEnd) \(c)") {
                            return
                        }
                    }
                }
            }
        }
    }
}
