/// Spatial geometry of a 2-D convolution or pooling window over NCHW: kernel, strides, dilations, pads, and the
/// output size that follows from them (explicit pads or ONNX `auto_pad`).
package struct ConvGeometry: Equatable {
    package var kernel: (h: Int, w: Int)
    package var stride: (h: Int, w: Int)
    package var dilation: (h: Int, w: Int)
    /// Pads in ONNX order: top, left, bottom, right.
    package var pads: (top: Int, left: Int, bottom: Int, right: Int)
    package var input: (h: Int, w: Int)
    package var output: (h: Int, w: Int)

    package static func == (a: ConvGeometry, b: ConvGeometry) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.dilation == b.dilation && a.pads == b.pads
            && a.input == b.input && a.output == b.output
    }

    /// Reads `strides`, `dilations`, `pads`, `auto_pad` of a Conv-like node for a 2-D input and kernel.
    package init(_ context: OpContext, input: (h: Int, w: Int), kernel: (h: Int, w: Int), ceilMode: Bool = false) throws {
        let strides = try context.ints("strides") ?? [1, 1]
        let dilations = try context.ints("dilations") ?? [1, 1]
        let explicitPads = try context.ints("pads") ?? [0, 0, 0, 0]
        guard strides.count == 2, dilations.count == 2, explicitPads.count == 4 else {
            throw context.fail("strides, dilations and pads must describe 2 spatial axes")
        }
        guard strides.allSatisfy({ $0 >= 1 }), dilations.allSatisfy({ $0 >= 1 }), explicitPads.allSatisfy({ $0 >= 0 }),
              kernel.h >= 1, kernel.w >= 1
        else { throw context.fail("strides, dilations and kernel must be ≥ 1 and pads ≥ 0") }
        self.kernel = kernel
        self.stride = (strides[0], strides[1])
        self.dilation = (dilations[0], dilations[1])
        self.input = input
        let extent = ((kernel.h - 1) * dilation.h + 1, (kernel.w - 1) * dilation.w + 1)
        let autoPad = try context.string("auto_pad", "NOTSET")
        switch autoPad {
        case "NOTSET":
            pads = (explicitPads[0], explicitPads[1], explicitPads[2], explicitPads[3])
        case "VALID":
            pads = (0, 0, 0, 0)
        case "SAME_UPPER", "SAME_LOWER":
            func split(_ size: Int, _ stride: Int, _ extent: Int) -> (Int, Int) {
                let out = (size + stride - 1) / stride
                let total = max(0, (out - 1) * stride + extent - size)
                let small = total / 2
                return autoPad == "SAME_UPPER" ? (small, total - small) : (total - small, small)
            }
            let (top, bottom) = split(input.h, stride.h, extent.0)
            let (left, right) = split(input.w, stride.w, extent.1)
            pads = (top, left, bottom, right)
        default:
            throw context.fail("unknown auto_pad '\(autoPad)'")
        }
        func outputSize(_ size: Int, _ before: Int, _ after: Int, _ extent: Int, _ stride: Int) -> Int {
            let span = size + before + after - extent
            guard span >= 0 else { return 0 }
            if ceilMode {
                var out = (span + stride - 1) / stride + 1
                // The last window must start inside the input or the left padding (ONNX / PyTorch rule).
                if (out - 1) * stride >= size + before { out -= 1 }
                return out
            }
            return span / stride + 1
        }
        output = (outputSize(input.h, pads.top, pads.bottom, extent.0, stride.h),
                  outputSize(input.w, pads.left, pads.right, extent.1, stride.w))
        guard output.h > 0, output.w > 0 else {
            throw context.fail("window \(extent) does not fit the padded input \(input)")
        }
    }
}
