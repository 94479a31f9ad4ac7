/// Window geometry of a 2-D pooling node over NCHW input: output size, padding, and per-axis tables of
/// which kernel taps fall inside the input, resolved once at plan time.
struct PoolGeometry {
    let planes: Int
    let inputHeight: Int
    let inputWidth: Int
    let outputHeight: Int
    let outputWidth: Int
    let height: PoolAxis
    let width: PoolAxis

    /// Reads kernel_shape, strides, dilations, pads, auto_pad and ceil_mode for input type `input`.
    init(_ context: OpContext, input: TensorType) throws {
        let rank = input.shape.count
        guard rank >= 3 else { throw context.fail("\(context.node.op.name) needs an N×C×spatial input, got \(input.shape)") }
        guard rank == 4 else { throw context.unsupported("\(context.node.op.name) supports 2-D spatial input only, got \(input.shape)") }
        guard let kernel = try context.ints("kernel_shape") else { throw context.fail("kernel_shape is required") }
        guard kernel.count == 2 else { throw context.fail("kernel_shape \(kernel) does not match 2 spatial axes") }
        let strides = try context.ints("strides") ?? [1, 1]
        let dilations = try context.ints("dilations") ?? [1, 1]
        var pads = try context.ints("pads") ?? [0, 0, 0, 0]
        guard strides.count == 2, dilations.count == 2, pads.count == 4 else {
            throw context.fail("strides \(strides), dilations \(dilations) or pads \(pads) have the wrong length")
        }
        guard kernel.allSatisfy({ $0 >= 1 }), strides.allSatisfy({ $0 >= 1 }), dilations.allSatisfy({ $0 >= 1 }),
              pads.allSatisfy({ $0 >= 0 }) else {
            throw context.fail("kernel_shape \(kernel), strides \(strides), dilations \(dilations), pads \(pads) must be positive")
        }
        // A bound far above any real window keeps the size arithmetic below from overflowing on a hostile file.
        let limit = 1 << 24
        guard (kernel + strides + dilations + pads).allSatisfy({ $0 <= limit }) else {
            throw context.fail("pooling attributes \(kernel) \(strides) \(dilations) \(pads) exceed \(limit)")
        }
        let ceilMode = try context.int("ceil_mode", 0) != 0
        let autoPad = try context.string("auto_pad", "NOTSET")
        let spatial = [input.shape[2], input.shape[3]]
        var outputs = [0, 0]
        for axis in 0..<2 {
            let size = spatial[axis]
            let stride = strides[axis]
            let extent = (kernel[axis] - 1) * dilations[axis] + 1
            switch autoPad {
            case "NOTSET":
                let span = size + pads[axis] + pads[axis + 2] - extent
                guard span >= 0 else {
                    throw context.fail("window \(extent) exceeds padded input \(size + pads[axis] + pads[axis + 2])")
                }
                var count = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1
                // ONNX and PyTorch: the last window must start inside the input or its left padding.
                if ceilMode, (count - 1) * stride >= size + pads[axis] { count -= 1 }
                outputs[axis] = count
            case "VALID":
                guard size >= extent else { throw context.fail("window \(extent) exceeds input \(size)") }
                pads[axis] = 0
                pads[axis + 2] = 0
                outputs[axis] = (size - extent) / stride + 1
            case "SAME_UPPER", "SAME_LOWER":
                let count = (size + stride - 1) / stride
                let total = max(0, (count - 1) * stride + extent - size)
                let smaller = total / 2
                pads[axis] = autoPad == "SAME_UPPER" ? smaller : total - smaller
                pads[axis + 2] = total - pads[axis]
                outputs[axis] = count
            default:
                throw context.fail("auto_pad '\(autoPad)' is not NOTSET, VALID, SAME_UPPER or SAME_LOWER")
            }
        }
        planes = input.shape[0] * input.shape[1]
        inputHeight = spatial[0]
        inputWidth = spatial[1]
        outputHeight = outputs[0]
        outputWidth = outputs[1]
        height = PoolAxis(size: spatial[0], outputs: outputs[0], kernel: kernel[0], stride: strides[0],
                          dilation: dilations[0], padBegin: pads[0], padEnd: pads[2])
        width = PoolAxis(size: spatial[1], outputs: outputs[1], kernel: kernel[1], stride: strides[1],
                         dilation: dilations[1], padBegin: pads[1], padEnd: pads[3])
    }

    /// Output shape for the input shape `[N, C, H, W]`.
    func outputShape(_ input: [Int]) -> [Int] { [input[0], input[1], outputHeight, outputWidth] }
}

/// One spatial axis of a pooling window: where output `o`'s window starts, which taps land in the input,
/// and how many taps fall in the input (`validCount`) or in input plus padding (`paddedCount`).
struct PoolAxis {
    let kernel: Int
    let stride: Int
    let dilation: Int
    let padBegin: Int
    /// Per output position: first and one-past-last kernel tap inside the input.
    let firstTap: [Int]
    let endTap: [Int]
    let validCount: [Int]
    let paddedCount: [Int]
    /// Outputs `vectorStart..<vectorEnd` have every tap inside the input, and (for stride 1 or 2) runs of 8
    /// of them can load their taps as whole vectors without reading past the end of the input row.
    let vectorStart: Int
    let vectorEnd: Int

    init(size: Int, outputs: Int, kernel: Int, stride: Int, dilation: Int, padBegin: Int, padEnd: Int) {
        self.kernel = kernel
        self.stride = stride
        self.dilation = dilation
        self.padBegin = padBegin
        var firstTap = [Int](repeating: 0, count: outputs)
        var endTap = [Int](repeating: 0, count: outputs)
        var validCount = [Int](repeating: 0, count: outputs)
        var paddedCount = [Int](repeating: 0, count: outputs)
        for o in 0..<outputs {
            let start = o * stride - padBegin
            var first = kernel
            var end = 0
            var padded = 0
            for k in 0..<kernel {
                let position = start + k * dilation
                if position >= 0 && position < size {
                    first = min(first, k)
                    end = k + 1
                }
                // Taps past the end padding (windows that ceil_mode adds) count for neither divisor.
                if position < size + padEnd { padded += 1 }
            }
            firstTap[o] = first
            endTap[o] = max(end, first)
            validCount[o] = max(end - first, 0)
            paddedCount[o] = padded
        }
        // Window o reads positions o·s − padBegin + k·d; a run of 8 starting at o with stride 2 loads 16 floats
        // per tap (the odd ones are dropped), so it needs (o + 8)·s − padBegin + (kernel − 1)·d ≤ size.
        let start = min((padBegin + stride - 1) / stride, outputs)
        let reach = size + padBegin - (kernel - 1) * dilation
        let end = stride <= 2 && reach >= 0 ? min(reach / stride, outputs) : start
        vectorStart = start
        vectorEnd = max(end, start)
        self.firstTap = firstTap
        self.endTap = endTap
        self.validCount = validCount
        self.paddedCount = paddedCount
    }

    /// Input position of tap `k` of output `o` (may lie in the padding).
    @inline(__always)
    func position(output o: Int, tap k: Int) -> Int { o * stride - padBegin + k * dilation }
}
