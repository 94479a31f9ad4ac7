internal import CKernels
internal import COpenBLAS

/// ONNX Conv over NCHW f32 with fused bias and activation. Three paths, chosen per layer at plan time:
/// depthwise (C kernel), pointwise 1x1/stride 1/no pad (one sgemm per image, no copy), and general
/// (im2col into the workspace, then sgemm per group).
struct ConvOperator: Operator {
    struct Layout {
        var batch: Int
        var inputChannels: Int
        var outputChannels: Int
        var group: Int
        var geometry: ConvGeometry

        var groupInputChannels: Int { inputChannels / group }
        var groupOutputChannels: Int { outputChannels / group }
        var inputPlane: Int { geometry.input.h * geometry.input.w }
        var outputPlane: Int { geometry.output.h * geometry.output.w }
        var reduction: Int { groupInputChannels * geometry.kernel.h * geometry.kernel.w }

        var isDepthwise: Bool { group > 1 && group == inputChannels && group == outputChannels }
        var isPointwise: Bool {
            let g = geometry
            return g.kernel == (1, 1) && g.stride == (1, 1) && g.pads == (0, 0, 0, 0)
        }
    }

    static func layout(_ context: OpContext) throws -> Layout {
        let x = try context.input(0)
        let w = try context.input(1)
        guard x.dtype == .float32, w.dtype == .float32 else { throw context.unsupported("Conv runs on f32 only") }
        guard x.shape.count == 4, w.shape.count == 4 else {
            throw context.unsupported("Conv needs 4-D input and weights (2-D spatial), got \(x.shape) and \(w.shape)")
        }
        let group = try context.int("group", 1)
        guard group >= 1, x.shape[1] % group == 0, w.shape[0] % group == 0, w.shape[1] * group == x.shape[1] else {
            throw context.fail("weights \(w.shape) do not match input \(x.shape) with group \(group)")
        }
        if let kernelShape = try context.ints("kernel_shape"), kernelShape != [w.shape[2], w.shape[3]] {
            throw context.fail("kernel_shape \(kernelShape) disagrees with weights \(w.shape)")
        }
        if context.hasInput(2) {
            let b = try context.input(2)
            guard b.count == w.shape[0] else { throw context.fail("bias has \(b.count) values for \(w.shape[0]) channels") }
        }
        let geometry = try ConvGeometry(context, input: (x.shape[2], x.shape[3]), kernel: (w.shape[2], w.shape[3]))
        return Layout(batch: x.shape[0], inputChannels: x.shape[1], outputChannels: w.shape[0], group: group,
                      geometry: geometry)
    }

    static func infer(_ context: OpContext) throws -> [TensorType] {
        let l = try layout(context)
        _ = try FusedActivationSpec(context)
        return [TensorType(.float32, [l.batch, l.outputChannels, l.geometry.output.h, l.geometry.output.w])]
    }

    static func workspaceBytes(_ context: OpContext, outputs: [TensorType]) throws -> Int {
        let l = try layout(context)
        if l.isDepthwise || l.isPointwise { return 0 }
        return l.reduction * l.outputPlane * MemoryLayout<Float>.size
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        let l = try layout(context)
        let activation = try FusedActivationSpec(context)
        if l.isDepthwise { return depthwise(l, activation, buffers) }
        return gemmBased(l, activation, buffers)
    }

    private static func depthwise(_ l: Layout, _ activation: FusedActivationSpec, _ buffers: OpBuffers) -> Kernel {
        let g = l.geometry
        let clamp = activation.clamp
        let params = spw_f32_dwconv_params(
            channels: l.inputChannels, input_height: g.input.h, input_width: g.input.w,
            output_height: g.output.h, output_width: g.output.w, kernel_height: g.kernel.h, kernel_width: g.kernel.w,
            stride_h: g.stride.h, stride_w: g.stride.w, dilation_h: g.dilation.h, dilation_w: g.dilation.w,
            pad_top: g.pads.top, pad_left: g.pads.left, output_min: clamp.min, output_max: clamp.max,
            c_begin: 0, c_end: l.inputChannels)
        let run = spw_get_kernel_config().pointee.f32_dwconv!
        let x = buffers.input(0), w = buffers.input(1), bias = buffers.optionalInput(2), y = buffers.output(0)
        let pool = buffers.pool
        let channels = l.inputChannels
        let chunks = pool.threadCount == 1 ? 1 : min(channels, pool.threadCount * 4)
        let inputImage = channels * l.inputPlane, outputImage = channels * l.outputPlane
        return {
            for n in 0..<l.batch {
                let xn = x + n * inputImage, yn = y + n * outputImage
                pool.parallelFor(chunks) { chunk in
                    var p = params
                    p.c_begin = chunk * channels / chunks
                    p.c_end = (chunk + 1) * channels / chunks
                    run(&p, xn, w, bias, yn)
                }
                activation.applySecondPass(yn, count: outputImage)
            }
        }
    }

    private static func gemmBased(_ l: Layout, _ activation: FusedActivationSpec, _ buffers: OpBuffers) -> Kernel {
        let g = l.geometry
        let config = spw_get_kernel_config().pointee
        let im2col = config.f32_im2col!
        let columns = buffers.workspace?.assumingMemoryBound(to: Float.self)
        let x = buffers.input(0), w = buffers.input(1), y = buffers.output(0)
        let epilogue = GemmEpilogue(bias: buffers.optionalInput(2), activation: activation, pool: buffers.pool)
        let pool = buffers.pool
        let im2colParams = spw_f32_im2col_params(
            input_channels: l.inputChannels, channel_offset: 0, group_channels: l.groupInputChannels,
            input_height: g.input.h, input_width: g.input.w, output_height: g.output.h, output_width: g.output.w,
            kernel_height: g.kernel.h, kernel_width: g.kernel.w, stride_h: g.stride.h, stride_w: g.stride.w,
            dilation_h: g.dilation.h, dilation_w: g.dilation.w, pad_top: g.pads.top, pad_left: g.pads.left,
            c_begin: 0, c_end: l.groupInputChannels, oy_begin: 0, oy_end: g.output.h)
        let pointwise = l.isPointwise
        let m = l.groupOutputChannels, n = l.outputPlane, k = l.reduction
        let groupChannels = l.groupInputChannels
        let chunks = pool.threadCount == 1 ? 1 : min(groupChannels, pool.threadCount * 2)
        let inputImage = l.inputChannels * l.inputPlane, outputImage = l.outputChannels * n
        return {
            for image in 0..<l.batch {
                let xn = x + image * inputImage, yn = y + image * outputImage
                for group in 0..<l.group {
                    var b = xn + group * groupChannels * l.inputPlane
                    if !pointwise, let columns {
                        pool.parallelFor(chunks) { chunk in
                            var p = im2colParams
                            p.channel_offset = group * groupChannels
                            p.c_begin = chunk * groupChannels / chunks
                            p.c_end = (chunk + 1) * groupChannels / chunks
                            im2col(&p, xn, columns)
                        }
                        b = UnsafePointer(columns)
                    }
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                                w + group * m * k, Int32(k), b, Int32(n), 0, yn + group * m * n, Int32(n))
                }
                epilogue.apply(yn, rows: l.outputChannels, columns: n)
            }
        }
    }
}

/// Bias, clamp and activation after a GEMM, row = output channel; rows split over the pool.
struct GemmEpilogue {
    let bias: UnsafePointer<Float>?
    let activation: FusedActivationSpec
    let pool: ThreadPool
    let run: spw_f32_bias_act_ukernel_fn

    init(bias: UnsafePointer<Float>?, activation: FusedActivationSpec, pool: ThreadPool) {
        self.bias = bias
        self.activation = activation
        self.pool = pool
        run = spw_get_kernel_config().pointee.f32_bias_act!
    }

    var isNoOp: Bool { bias == nil && activation.kind == .none }

    func apply(_ data: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        if isNoOp { return }
        let clamp = activation.clamp
        let chunks = pool.threadCount == 1 || rows * columns < 16_384 ? 1 : min(rows, pool.threadCount * 2)
        pool.parallelFor(chunks) { chunk in
            let begin = chunk * rows / chunks, end = (chunk + 1) * rows / chunks
            var p = spw_f32_bias_act_params(rows: end - begin, cols: columns, row_stride: columns,
                                            output_min: clamp.min, output_max: clamp.max)
            run(&p, bias.map { $0 + begin }, data + begin * columns)
            activation.applySecondPass(data + begin * columns, count: (end - begin) * columns)
        }
    }
}
