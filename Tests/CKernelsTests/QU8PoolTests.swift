import CKernels
import XCTest

/// uint8 max pooling and global average pooling: the references against Swift transcriptions of the header, every
/// variant against the reference bit for bit, with the input against guard pages.
final class QU8PoolTests: XCTestCase {
    // MARK: - Max pooling

    struct MaxCase: CustomStringConvertible {
        var params = spw_qu8_maxpool_params()
        var input: [UInt8] = []
        var outputCount: Int { Int(params.channels * params.output_height * params.output_width) }
        var description: String {
            let p = params
            return "C=\(p.channels)[\(p.c_begin)..<\(p.c_end)] in=\(p.input_height)x\(p.input_width) "
                + "out=\(p.output_height)x\(p.output_width) k=\(p.kernel_height)x\(p.kernel_width) "
                + "s=\(p.stride_h),\(p.stride_w) d=\(p.dilation_h),\(p.dilation_w) pad=\(p.pad_top),\(p.pad_left)"
        }
    }

    /// `extraOutputs` adds output rows and columns past the floor-mode size (ceil mode, or windows that read
    /// padding only). Returns nil when no window fits.
    static func makeMaxCase(
        _ rng: inout SplitMix64, channels: Int, height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int),
        dilation: (Int, Int) = (1, 1), pads: (top: Int, left: Int, bottom: Int, right: Int),
        extraOutputs: Int = 0, channelRange: Range<Int>? = nil, fill: UInt8? = nil
    ) -> MaxCase? {
        let oh = windowOutputSize(input: height, kernel: kernel.0, stride: stride.0, dilation: dilation.0,
                                  padBefore: pads.top, padAfter: pads.bottom)
        let ow = windowOutputSize(input: width, kernel: kernel.1, stride: stride.1, dilation: dilation.1,
                                  padBefore: pads.left, padAfter: pads.right)
        guard oh > 0, ow > 0 else { return nil }
        var c = MaxCase()
        c.params.channels = channels
        c.params.input_height = height
        c.params.input_width = width
        c.params.output_height = oh + extraOutputs
        c.params.output_width = ow + extraOutputs
        c.params.kernel_height = kernel.0
        c.params.kernel_width = kernel.1
        c.params.stride_h = stride.0
        c.params.stride_w = stride.1
        c.params.dilation_h = dilation.0
        c.params.dilation_w = dilation.1
        c.params.pad_top = pads.top
        c.params.pad_left = pads.left
        let range = channelRange ?? 0..<channels
        c.params.c_begin = range.lowerBound
        c.params.c_end = range.upperBound
        let count = channels * height * width
        c.input = fill.map { [UInt8](repeating: $0, count: count) } ?? rng.bytes(count)
        return c
    }

    static func run(_ fn: spw_qu8_maxpool_ukernel_fn, _ c: MaxCase, atEnd: Bool = true) -> [UInt8] {
        var params = c.params
        let input = GuardedBytes(c.input, atEnd: atEnd)
        let output = GuardedBytes([UInt8](repeating: 0xA5, count: c.outputCount), atEnd: atEnd)
        fn(&params, input.pointer, output.pointer)
        return output.array
    }

    static func naiveMax(_ c: MaxCase) -> [UInt8] {
        let p = c.params
        let (ih, iw, oh, ow) = (Int(p.input_height), Int(p.input_width), Int(p.output_height), Int(p.output_width))
        var out = [UInt8](repeating: 0xA5, count: c.outputCount)
        for ch in Int(p.c_begin)..<Int(p.c_end) {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var m: UInt8 = 0
                    for ky in 0..<Int(p.kernel_height) {
                        let iy = oy * Int(p.stride_h) - Int(p.pad_top) + ky * Int(p.dilation_h)
                        guard iy >= 0 && iy < ih else { continue }
                        for kx in 0..<Int(p.kernel_width) {
                            let ix = ox * Int(p.stride_w) - Int(p.pad_left) + kx * Int(p.dilation_w)
                            guard ix >= 0 && ix < iw else { continue }
                            m = max(m, c.input[(ch * ih + iy) * iw + ix])
                        }
                    }
                    out[(ch * oh + oy) * ow + ox] = m
                }
            }
        }
        return out
    }

    static var maxReference: spw_qu8_maxpool_ukernel_fn {
        KernelRegistry.reference(of: SPW_OP_QU8_MAXPOOL).fn.qu8_maxpool!
    }

    @discardableResult
    func checkMax(_ c: MaxCase, variants: [spw_kernel_info], file: StaticString = #filePath, line: UInt = #line)
        -> Bool {
        let expected = Self.run(Self.maxReference, c)
        for variant in variants {
            for atEnd in [true, false] {
                let actual = Self.run(variant.fn.qu8_maxpool!, c, atEnd: atEnd)
                if let i = actual.indices.first(where: { actual[$0] != expected[$0] }) {
                    XCTFail("\(KernelRegistry.name(variant)) \(c): element \(i): got \(actual[i]), expected "
                        + "\(expected[i])", file: file, line: line)
                    return false
                }
            }
        }
        return true
    }

    func testMaxPoolReferenceMatchesDefinition() {
        var rng = SplitMix64(seed: 300)
        var tested = 0
        while tested < 80 {
            guard let c = Self.makeMaxCase(
                &rng, channels: rng.int(1...3), height: rng.int(1...9), width: rng.int(1...11),
                kernel: (rng.int(1...4), rng.int(1...4)), stride: (rng.int(1...3), rng.int(1...3)),
                dilation: (rng.int(1...2), rng.int(1...2)),
                pads: (rng.int(0...3), rng.int(0...3), rng.int(0...3), rng.int(0...3)), extraOutputs: rng.int(0...1))
            else { continue }
            tested += 1
            XCTAssertEqual(Self.run(Self.maxReference, c), Self.naiveMax(c), "\(c)")
        }
    }

    /// Widths around the 32-output vector, the usual windows (3x3 stride 2 pad 1, 2x2 stride 2) and unusual ones
    /// (strides 3 and 4, dilation, wide kernels, pads past the kernel, padding-only windows).
    func testMaxPoolVariantsMatchReference() {
        var rng = SplitMix64(seed: 301)
        let variants = KernelRegistry.testableVariants(of: SPW_OP_QU8_MAXPOOL)
        let shapes: [(k: (Int, Int), s: (Int, Int), d: (Int, Int), pad: Int)] = [
            ((3, 3), (2, 2), (1, 1), 1), ((2, 2), (2, 2), (1, 1), 0), ((3, 3), (1, 1), (1, 1), 1),
            ((1, 1), (1, 1), (1, 1), 0), ((5, 3), (3, 1), (1, 2), 2), ((3, 5), (1, 4), (2, 1), 3),
            ((7, 7), (2, 3), (1, 1), 8), ((1, 9), (1, 2), (1, 3), 0),
        ]
        let widths = Array(1...34) + [63, 64, 65, 95, 96, 97, 112, 150]
        var index = 0
        for shape in shapes {
            for width in widths {
                index += 1
                guard let c = Self.makeMaxCase(
                    &rng, channels: 3, height: 4 + index % 5, width: width, kernel: shape.k, stride: shape.s,
                    dilation: shape.d, pads: (shape.pad, shape.pad, shape.pad, shape.pad), extraOutputs: index % 2,
                    channelRange: index % 3 == 0 ? 1..<2 : nil, fill: [nil, 255, 0, nil][index % 4])
                else { continue }
                if !checkMax(c, variants: variants) { return }
            }
        }
    }

    /// Rows wider than the AVX2 kernel's row buffers (8 KB: outputs in chunks), and a dilation so wide that even
    /// 32 outputs do not fit (the scalar path).
    func testMaxPoolWideRows() {
        var rng = SplitMix64(seed: 302)
        let variants = KernelRegistry.testableVariants(of: SPW_OP_QU8_MAXPOOL)
        for (width, k, s, d) in [(9000, 3, 1, 1), (9000, 3, 2, 1), (20000, 3, 3, 1), (12000, 3, 1, 5000)] {
            guard let c = Self.makeMaxCase(&rng, channels: 1, height: 3, width: width, kernel: (3, k), stride: (1, s),
                                           dilation: (1, d), pads: (1, 1, 1, 1))
            else { return XCTFail("no case") }
            if !checkMax(c, variants: variants) { return }
        }
        guard let c = Self.makeMaxCase(&rng, channels: 2, height: 5, width: 17, kernel: (3, 3), stride: (2, 2),
                                       pads: (1, 1, 1, 1))
        else { return XCTFail("no case") }
        XCTAssertEqual(Self.run({ spw_qu8_maxpool($0, $1, $2) }, c), Self.run(Self.maxReference, c))
    }

    // MARK: - Global average pooling

    static func gavgpool(_ fn: spw_qu8_gavgpool_ukernel_fn, _ params: spw_qu8_gavgpool_params, _ input: [UInt8],
                         atEnd: Bool = true) -> [UInt8] {
        var p = params
        let x = GuardedBytes(input, atEnd: atEnd)
        let y = GuardedBytes([UInt8](repeating: 0xA5, count: Int(p.channels)), atEnd: atEnd)
        fn(&p, x.pointer, y.pointer)
        return y.array
    }

    static func naiveGavgpool(_ p: spw_qu8_gavgpool_params, _ input: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0xA5, count: Int(p.channels))
        let n = Int(p.spatial_size)
        for c in Int(p.c_begin)..<Int(p.c_end) {
            let sum = input[c * n..<(c + 1) * n].reduce(0) { $0 + Int($1) - Int(p.input_zero_point) }
            out[c] = QS8GemmTests.requantize(Int32(sum), p.multiplier, zeroPoint: p.output_zero_point,
                                             min: p.output_min, max: p.output_max)
        }
        return out
    }

    static var gavgpoolReference: spw_qu8_gavgpool_ukernel_fn {
        KernelRegistry.reference(of: SPW_OP_QU8_GAVGPOOL).fn.qu8_gavgpool!
    }

    static func gavgpoolParams(channels: Int, size: Int, range: Range<Int>? = nil, inputZeroPoint: UInt8,
                               outputZeroPoint: UInt8, clamp: (UInt8, UInt8) = (0, 255), scaleRatio: Float = 1)
        -> spw_qu8_gavgpool_params {
        let range = range ?? 0..<channels
        return spw_qu8_gavgpool_params(
            channels: channels, spatial_size: size, c_begin: range.lowerBound, c_end: range.upperBound,
            multiplier: scaleRatio / Float(max(size, 1)), input_zero_point: inputZeroPoint,
            output_zero_point: outputZeroPoint, output_min: clamp.0, output_max: clamp.1)
    }

    /// Sizes 0 to 100 and network ones (7x7, 14x14, 56x56), zero points at both ends, scale ratios that put means
    /// on ties (1, 0.5 with even sizes), constant inputs 255 and 0, channel sub-ranges.
    func testGlobalAveragePool() {
        var rng = SplitMix64(seed: 303)
        let variants = KernelRegistry.testableVariants(of: SPW_OP_QU8_GAVGPOOL)
        for (index, size) in (Array(0...100) + [196, 3136, 4099]).enumerated() {
            let channels = size > 1000 ? 3 : 5
            let p = Self.gavgpoolParams(
                channels: channels, size: size, range: index % 4 == 0 ? 1..<channels - 1 : nil,
                inputZeroPoint: [0, 255, 128, 37][index % 4], outputZeroPoint: [0, 255, 3, 128][index / 4 % 4],
                clamp: index % 5 == 0 ? (50, 200) : (0, 255), scaleRatio: [1, 0.5, 1.37, 8][index % 4])
            let input = [rng.bytes(channels * size), [UInt8](repeating: 255, count: channels * size),
                         [UInt8](repeating: 0, count: channels * size)][index % 3 == 2 ? index / 3 % 3 : 0]
            let expected = Self.gavgpool(Self.gavgpoolReference, p, input)
            XCTAssertEqual(expected, Self.naiveGavgpool(p, input), "reference size \(size) \(p)")
            for variant in variants {
                for atEnd in [true, false] {
                    XCTAssertEqual(Self.gavgpool(variant.fn.qu8_gavgpool!, p, input, atEnd: atEnd), expected,
                                   "\(KernelRegistry.name(variant)) size \(size) \(p)")
                }
            }
        }
        // Hand-worked: mean (1 + 2) / 2 = 1.5 rounds to 2, (2 + 3) / 2 = 2.5 to 2; zero point 10 adds 10.
        let p = Self.gavgpoolParams(channels: 2, size: 2, inputZeroPoint: 0, outputZeroPoint: 10)
        XCTAssertEqual(Self.gavgpool(Self.gavgpoolReference, p, [1, 2, 2, 3]), [12, 12])
        let input = rng.bytes(7 * 49)
        let q = Self.gavgpoolParams(channels: 7, size: 49, inputZeroPoint: 128, outputZeroPoint: 128)
        XCTAssertEqual(Self.gavgpool({ spw_qu8_gavgpool($0, $1, $2) }, q, input),
                       Self.gavgpool(Self.gavgpoolReference, q, input))
    }
}
