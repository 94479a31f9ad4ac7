import CKernels
import XCTest

/// Max, average and global average pooling.
final class PoolTests: XCTestCase {
    struct Case: CustomStringConvertible {
        var params = spw_f32_pool_params()
        var input: [Float] = []
        var outputCount: Int { Int(params.channels * params.output_height * params.output_width) }
        var description: String {
            let p = params
            return "C=\(p.channels)[\(p.c_begin)..<\(p.c_end)] in=\(p.input_height)x\(p.input_width) "
                + "out=\(p.output_height)x\(p.output_width) k=\(p.kernel_height)x\(p.kernel_width) "
                + "s=\(p.stride_h),\(p.stride_w) d=\(p.dilation_h),\(p.dilation_w) "
                + "pad=\(p.pad_top),\(p.pad_left),\(p.pad_bottom),\(p.pad_right) includePad=\(p.count_include_pad)"
        }
    }

    /// ceilMode: output sizes as ONNX computes them (the last window must start inside the input or left pad).
    static func makeCase(
        _ rng: inout SplitMix64, channels: Int, height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int),
        dilation: (Int, Int) = (1, 1), pads: (Int, Int, Int, Int), ceilMode: Bool = false,
        includePad: Bool = false, channelRange: Range<Int>? = nil
    ) -> Case? {
        func size(_ input: Int, _ k: Int, _ s: Int, _ d: Int, _ before: Int, _ after: Int) -> Int {
            let span = (k - 1) * d + 1
            let room = input + before + after - span
            guard room >= 0 else { return 0 }
            var n = (ceilMode ? (room + s - 1) / s : room / s) + 1
            if ceilMode && (n - 1) * s >= input + before { n -= 1 }
            return n
        }
        let oh = size(height, kernel.0, stride.0, dilation.0, pads.0, pads.2)
        let ow = size(width, kernel.1, stride.1, dilation.1, pads.1, pads.3)
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
        c.params.pad_top = pads.0
        c.params.pad_left = pads.1
        c.params.pad_bottom = pads.2
        c.params.pad_right = pads.3
        c.params.count_include_pad = includePad
        let range = channelRange ?? 0..<channels
        c.params.c_begin = range.lowerBound
        c.params.c_end = range.upperBound
        c.input = rng.floats(channels * height * width, scale: 100)
        return c
    }

    static func run(_ fn: spw_f32_pool_ukernel_fn, _ c: Case) -> [Float] {
        var params = c.params
        var output = [Float](repeating: sentinel, count: c.outputCount + guardCount)
        c.input.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { fn(&params, input.baseAddress, $0.baseAddress) }
        }
        return output
    }

    /// Straight from the header's definition.
    static func naive(_ c: Case, max isMax: Bool) -> [Float] {
        let p = c.params
        let (ih, iw, oh, ow) = (Int(p.input_height), Int(p.input_width), Int(p.output_height), Int(p.output_width))
        var out = [Float](repeating: sentinel, count: c.outputCount + guardCount)
        for ch in Int(p.c_begin)..<Int(p.c_end) {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var m = -Float.infinity
                    var sum = 0.0
                    var count = 0
                    for ky in 0..<Int(p.kernel_height) {
                        let iy = oy * Int(p.stride_h) - Int(p.pad_top) + ky * Int(p.dilation_h)
                        for kx in 0..<Int(p.kernel_width) {
                            let ix = ox * Int(p.stride_w) - Int(p.pad_left) + kx * Int(p.dilation_w)
                            let inside = iy >= 0 && iy < ih && ix >= 0 && ix < iw
                            let insidePadded = iy >= -Int(p.pad_top) && iy < ih + Int(p.pad_bottom)
                                && ix >= -Int(p.pad_left) && ix < iw + Int(p.pad_right)
                            if inside {
                                let v = c.input[(ch * ih + iy) * iw + ix]
                                m = max(m, v)
                                sum += Double(v)
                            }
                            if p.count_include_pad ? insidePadded : inside { count += 1 }
                        }
                    }
                    out[(ch * oh + oy) * ow + ox] = isMax ? m : (count > 0 ? Float(sum / Double(count)) : 0)
                }
            }
        }
        return out
    }

    static func randomCases(seed: UInt64, count: Int) -> [Case] {
        var rng = SplitMix64(seed: seed)
        var cases: [Case] = []
        while cases.count < count {
            let channels = rng.int(1...3)
            let begin = rng.int(0...channels - 1)
            let k = (rng.int(1...4), rng.int(1...4))
            guard let c = makeCase(
                &rng, channels: channels, height: rng.int(1...14), width: rng.int(1...35), kernel: k,
                stride: (rng.int(1...3), rng.int(1...3)),
                dilation: rng.int(0...3) == 0 ? (rng.int(1...2), rng.int(1...2)) : (1, 1),
                pads: (rng.int(0...k.0), rng.int(0...k.1), rng.int(0...k.0), rng.int(0...k.1)),
                ceilMode: rng.bool(), includePad: rng.bool(), channelRange: begin..<rng.int(begin...channels))
            else { continue }
            cases.append(c)
        }
        // Network shapes: 3x3 s2 max (ResNet stem), 2x2 s2, 3x3 s1 "same", 7x7 global-like.
        for (h, k, s, pad) in [(112, 3, 2, 1), (56, 2, 2, 0), (28, 3, 1, 1), (17, 3, 2, 0), (7, 7, 1, 0)] {
            for includePad in [false, true] {
                if let c = makeCase(&rng, channels: 2, height: h, width: h, kernel: (k, k), stride: (s, s),
                                    pads: (pad, pad, pad, pad), ceilMode: true, includePad: includePad) {
                    cases.append(c)
                }
            }
        }
        for width in Array(1...17) + [23, 24, 25] {
            for s in [1, 2, 3] {
                if let c = makeCase(&rng, channels: 1, height: 4, width: width, kernel: (3, 3), stride: (s, s),
                                    pads: (1, 1, 1, 1), includePad: width % 2 == 0) {
                    cases.append(c)
                }
            }
        }
        return cases
    }

    func testReferencesMatchDefinition() {
        let maxRef = KernelRegistry.reference(of: SPW_OP_F32_MAXPOOL).fn.f32_pool!
        let avgRef = KernelRegistry.reference(of: SPW_OP_F32_AVGPOOL).fn.f32_pool!
        for c in Self.randomCases(seed: 31, count: 150) {
            if !assertIdentical(Self.run(maxRef, c), Self.naive(c, max: true), "max reference \(c)") { return }
            let avg = Self.run(avgRef, c)
            let scale = [Float](repeating: 100, count: avg.count)
            if !assertClose(avg, Self.naive(c, max: false), scale: scale, "avg reference \(c)") { return }
        }
    }

    /// Max and average variants accumulate in the reference's order: results must be identical.
    func testVariantsMatchReference() {
        let cases = Self.randomCases(seed: 32, count: 300)
        for op in [SPW_OP_F32_MAXPOOL, SPW_OP_F32_AVGPOOL] {
            let reference = KernelRegistry.reference(of: op).fn.f32_pool!
            for variant in KernelRegistry.testableVariants(of: op) {
                for c in cases {
                    let actual = Self.run(variant.fn.f32_pool!, c)
                    if !assertIdentical(actual, Self.run(reference, c), "\(KernelRegistry.name(variant)) \(c)") {
                        break
                    }
                }
            }
        }
    }

    func testDispatch() {
        let maxRef = KernelRegistry.reference(of: SPW_OP_F32_MAXPOOL).fn.f32_pool!
        let avgRef = KernelRegistry.reference(of: SPW_OP_F32_AVGPOOL).fn.f32_pool!
        for c in Self.randomCases(seed: 33, count: 5).prefix(5) {
            _ = assertIdentical(Self.run({ spw_f32_maxpool($0, $1, $2) }, c), Self.run(maxRef, c), "max \(c)")
            _ = assertIdentical(Self.run({ spw_f32_avgpool($0, $1, $2) }, c), Self.run(avgRef, c), "avg \(c)")
        }
    }

    // MARK: - Global average pooling

    static func runGlobal(_ fn: spw_f32_gavgpool_ukernel_fn, _ p: spw_f32_gavgpool_params, _ input: [Float]) -> [Float] {
        var params = p
        var output = [Float](repeating: sentinel, count: Int(p.channels) + guardCount)
        input.withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer { fn(&params, i.baseAddress, $0.baseAddress) }
        }
        return output
    }

    func testGlobalAverageVariants() {
        var rng = SplitMix64(seed: 34)
        let reference = KernelRegistry.reference(of: SPW_OP_F32_GAVGPOOL).fn.f32_gavgpool!
        let variants = KernelRegistry.testableVariants(of: SPW_OP_F32_GAVGPOOL)
        for spatial in Array(0...40) + [49, 63, 64, 65, 196, 784, 3136] {
            let channels = 1 + spatial % 7
            var p = spw_f32_gavgpool_params()
            p.channels = channels
            p.spatial_size = spatial
            p.c_begin = min(spatial % 2, channels)
            p.c_end = max(p.c_begin, channels - spatial % 3)
            let input = rng.floats(channels * spatial + 1, scale: spatial % 4 == 3 ? 1e30 : 10)
            let expected = Self.runGlobal(reference, p, input)
            // Rounding scale: mean of magnitudes.
            var scale = [Float](repeating: 0, count: expected.count)
            for ch in 0..<channels where spatial > 0 {
                scale[ch] = input[ch * spatial..<(ch + 1) * spatial].reduce(0) { $0 + abs($1) } / Float(spatial)
            }
            for variant in variants {
                if !assertClose(Self.runGlobal(variant.fn.f32_gavgpool!, p, input), expected, scale: scale,
                                "\(KernelRegistry.name(variant)) spatial=\(spatial) C=\(channels)") { return }
            }
        }
        var p = spw_f32_gavgpool_params()
        p.channels = 2
        p.spatial_size = 3
        p.c_end = 2
        let means = Self.runGlobal({ spw_f32_gavgpool($0, $1, $2) }, p, [1, 2, 3, -3, 0, 0])
        XCTAssertEqual(Array(means.prefix(2)), [2, -1])
    }
}
