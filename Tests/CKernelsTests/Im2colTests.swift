import CKernels
import XCTest

/// im2col against a naive Swift implementation of the documented layout.
final class Im2colTests: XCTestCase {
    static func naive(_ p: spw_f32_im2col_params, _ input: [Float], count: Int) -> [Float] {
        var out = [Float](repeating: sentinel, count: count)
        let (ih, iw, ow) = (Int(p.input_height), Int(p.input_width), Int(p.output_width))
        let (kh, kw) = (Int(p.kernel_height), Int(p.kernel_width))
        let ld = (Int(p.oy_end) - Int(p.oy_begin)) * ow
        for c in Int(p.c_begin)..<Int(p.c_end) {
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let row = (c * kh + ky) * kw + kx
                    for oy in Int(p.oy_begin)..<Int(p.oy_end) {
                        for ox in 0..<ow {
                            let iy = oy * Int(p.stride_h) - Int(p.pad_top) + ky * Int(p.dilation_h)
                            let ix = ox * Int(p.stride_w) - Int(p.pad_left) + kx * Int(p.dilation_w)
                            let inside = iy >= 0 && iy < ih && ix >= 0 && ix < iw
                            let channel = Int(p.channel_offset) + c
                            out[row * ld + (oy - Int(p.oy_begin)) * ow + ox] =
                                inside ? input[(channel * ih + iy) * iw + ix] : 0
                        }
                    }
                }
            }
        }
        return out
    }

    func testVariantsMatchDefinition() {
        var rng = SplitMix64(seed: 41)
        let variants = KernelRegistry.variants(of: SPW_OP_F32_IM2COL).filter { KernelRegistry.isSupported($0) }
        var tested = 0
        while tested < 250 {
            var p = spw_f32_im2col_params()
            p.input_channels = rng.int(1...6)
            p.group_channels = rng.int(1...p.input_channels)
            p.channel_offset = rng.int(0...p.input_channels - p.group_channels)
            p.c_begin = rng.int(0...p.group_channels - 1)
            p.c_end = rng.int(p.c_begin...p.group_channels)
            p.input_height = rng.int(1...12)
            p.input_width = rng.int(1...20)
            p.kernel_height = rng.int(1...5)
            p.kernel_width = rng.int(1...5)
            p.stride_h = rng.int(1...3)
            p.stride_w = rng.int(1...3)
            p.dilation_h = rng.int(1...2)
            p.dilation_w = rng.int(1...2)
            p.pad_top = rng.int(0...4)
            p.pad_left = rng.int(0...4)
            let oh = windowOutputSize(input: p.input_height, kernel: p.kernel_height, stride: p.stride_h,
                                      dilation: p.dilation_h, padBefore: p.pad_top, padAfter: rng.int(0...4))
            let ow = windowOutputSize(input: p.input_width, kernel: p.kernel_width, stride: p.stride_w,
                                      dilation: p.dilation_w, padBefore: p.pad_left, padAfter: rng.int(0...4))
            guard oh > 0, ow > 0 else { continue }
            tested += 1
            p.output_height = oh
            p.output_width = ow
            p.oy_begin = rng.bool() ? 0 : rng.int(0...oh - 1)
            p.oy_end = rng.bool() ? oh : rng.int(p.oy_begin...oh)
            let input = rng.floats(p.input_channels * p.input_height * p.input_width)
            let count = p.group_channels * p.kernel_height * p.kernel_width * (p.oy_end - p.oy_begin) * ow + guardCount
            let expected = Self.naive(p, input, count: count)
            for variant in variants {
                var params = p
                var columns = [Float](repeating: sentinel, count: count)
                input.withUnsafeBufferPointer { i in
                    columns.withUnsafeMutableBufferPointer {
                        variant.fn.f32_im2col!(&params, i.baseAddress, $0.baseAddress)
                    }
                }
                if !assertIdentical(columns, expected, "\(KernelRegistry.name(variant)) \(p)") { return }
            }
        }
    }

    func testDispatch() {
        // 1 channel 3x3 input, 2x2 kernel, pad 1 on top/left: a 4 x 4 matrix (rows ky,kx; columns oy,ox).
        var p = spw_f32_im2col_params()
        p.input_channels = 1
        p.group_channels = 1
        p.c_end = 1
        p.input_height = 3
        p.input_width = 3
        p.output_height = 2
        p.output_width = 2
        p.kernel_height = 2
        p.kernel_width = 2
        p.stride_h = 2
        p.stride_w = 2
        p.dilation_h = 1
        p.dilation_w = 1
        p.pad_top = 1
        p.pad_left = 1
        p.oy_end = 2
        let input: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        var columns = [Float](repeating: sentinel, count: 16)
        input.withUnsafeBufferPointer { i in columns.withUnsafeMutableBufferPointer { spw_f32_im2col(&p, i.baseAddress, $0.baseAddress) } }
        XCTAssertEqual(columns, [0, 0, 0, 5, 0, 0, 4, 6, 0, 2, 0, 8, 1, 3, 7, 9])
    }
}
