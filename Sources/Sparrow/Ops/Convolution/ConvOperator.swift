internal import CKernels
internal import COpenBLAS

/// ONNX Conv over NCHW f32 with fused bias and activation. Three paths, chosen per layer at plan time:
/// depthwise (C kernel), pointwise 1x1/stride 1/no pad (one sgemm per image, no copy), and general
/// (im2col into the workspace, then sgemm per group); sparse weights take `SparseConvolution`.
///
/// Sparrow's own extension: an optional fourth input, a residual of the output's shape added after the bias and
/// before the activation (`FuseResidualAddPass` folds Conv → Add [→ activation] into it, saving the Add's pass
/// over memory). Group-1 convolutions only.
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
        let layout = Layout(batch: x.shape[0], inputChannels: x.shape[1], outputChannels: w.shape[0], group: group,
                            geometry: geometry)
        if context.hasInput(3) {
            let residual = try context.input(3)
            let output = [layout.batch, layout.outputChannels, geometry.output.h, geometry.output.w]
            guard residual.dtype == .float32, residual.shape == output else {
                throw context.fail("residual \(residual.dtype) \(residual.shape) does not match the output f32 \(output)")
            }
            guard group == 1 else { throw context.unsupported("a residual input needs group 1, got group \(group)") }
        }
        return layout
    }

    /// The residual input (a fused Add) as the epilogues take it: its base and the output's.
    static func residual(_ buffers: OpBuffers) -> (base: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>)? {
        buffers.optionalInput(3).map { ($0, buffers.output(0)) }
    }

    static func infer(_ context: OpContext) throws -> [TensorType] {
        let l = try layout(context)
        _ = try FusedActivationSpec(context)
        return [TensorType(.float32, [l.batch, l.outputChannels, l.geometry.output.h, l.geometry.output.w])]
    }

    static func workspaceBytes(_ context: OpContext, outputs: [TensorType]) throws -> Int {
        let l = try layout(context)
        if let sparse = try sparsePath(context) { return sparse.workspaceBytes }
        if l.isDepthwise || l.isPointwise { return 0 }
        let plan = BandPlan(l, threads: context.threads)
        return plan.slots * l.reduction * plan.rows * l.geometry.output.w * MemoryLayout<Float>.size
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        let l = try layout(context)
        let activation = try FusedActivationSpec(context)
        if let sparse = try sparsePath(context) { return sparse.prepare(activation: activation, buffers: buffers) }
        if l.isDepthwise { return depthwise(l, activation, buffers) }
        return gemmBased(l, activation, buffers)
    }

    static func readsSparse(_ context: OpContext, input index: Int) -> Bool {
        index == 1 && (try? sparsePath(context)) != nil
    }

    /// The SpMM-based convolution when the weights are stored sparse and the layer is one it runs (group 1,
    /// offsets within u32). Depthwise and grouped layers expand sparse weights to dense instead.
    static func sparsePath(_ context: OpContext) throws -> SparseConvolution? {
        guard let matrix = context.sparseInput(1) else { return nil }
        let l = try layout(context)
        guard l.group == 1, matrix.rows == l.outputChannels, matrix.cols == l.reduction else { return nil }
        let sparse = SparseConvolution(layout: l, matrix: matrix)
        return sparse.fitsOffsets ? sparse : nil
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
        let outputPlane = l.outputPlane
        // One work item per (image, channel range); each also applies the activation to its own channels.
        let loop = ParallelLoop(pool: pool, count: l.batch * chunks) { item in
            let n = item / chunks, chunk = item - n * chunks
            var p = params
            p.c_begin = chunk * channels / chunks
            p.c_end = (chunk + 1) * channels / chunks
            let yn = y + n * outputImage
            run(&p, x + n * inputImage, w, bias, yn)
            activation.applySecondPass(yn + p.c_begin * outputPlane, count: (p.c_end - p.c_begin) * outputPlane)
        }
        return { loop.run() }
    }

    /// Output rows computed per sgemm call: the im2col block and the output block of a band stay in L2
    /// (~512 KiB), so that im2col → sgemm → epilogue touch each band while it is cached.
    static func bandRows(_ l: Layout) -> Int {
        let width = l.geometry.output.w
        let perRow = (l.isPointwise ? 0 : l.reduction) + l.outputChannels
        let rows = (512 * 1024 / 4) / max(perRow * width, 1)
        // Narrow bands make sgemm repack the weights too often; keep at least ~256 columns.
        let minimum = (256 + width - 1) / width
        return Swift.min(l.geometry.output.h, Swift.max(rows, minimum, 1))
    }

    /// How a GEMM-based convolution walks its output rows. With one thread, or when the map is too small for
    /// every thread to get a band of at least `minimumColumns` outputs, bands are `bandRows(l)` tall and each
    /// band's im2col and sgemm are split over the pool (`slots` = 1). Otherwise each thread runs whole bands
    /// (im2col, sgemm and epilogue on its own band, in its own slice of the workspace): no synchronisation inside
    /// a band and no packing duplicated across threads.
    struct BandPlan {
        let rows: Int
        let count: Int
        /// Workspace slices: one per thread in band-parallel mode, else 1.
        let slots: Int

        static let minimumColumns = 128

        init(_ l: Layout, threads: Int) {
            let height = l.geometry.output.h, width = l.geometry.output.w
            let single = bandRows(l)
            let singleCount = (height + single - 1) / max(single, 1)
            if threads > 1 {
                // Round the band count up to a multiple of the threads so that they finish together.
                let wanted = (singleCount + threads - 1) / threads * threads
                let rows = (height + wanted - 1) / wanted
                let count = (height + rows - 1) / max(rows, 1)
                if rows * width >= Self.minimumColumns && count >= threads {
                    self.rows = rows
                    self.count = count
                    slots = threads
                    return
                }
            }
            rows = single
            count = singleCount
            slots = 1
        }
    }

    private static func gemmBased(_ l: Layout, _ activation: FusedActivationSpec, _ buffers: OpBuffers) -> Kernel {
        let plan = BandPlan(l, threads: buffers.pool.threadCount)
        if plan.slots > 1 { return bandParallel(l, activation, buffers, plan) }
        let g = l.geometry
        let config = spw_get_kernel_config().pointee
        let im2col = config.f32_im2col!
        let columns = buffers.workspace?.assumingMemoryBound(to: Float.self)
        let x = buffers.input(0), w = buffers.input(1), y = buffers.output(0)
        let epilogue = GemmEpilogue(bias: buffers.optionalInput(2), activation: activation, pool: buffers.pool,
                                    residual: residual(buffers))
        let pool = buffers.pool
        let sgemm = ParallelSgemm(pool: pool, epilogue: epilogue)
        let im2colParams = spw_f32_im2col_params(
            input_channels: l.inputChannels, channel_offset: 0, group_channels: l.groupInputChannels,
            input_height: g.input.h, input_width: g.input.w, output_height: g.output.h, output_width: g.output.w,
            kernel_height: g.kernel.h, kernel_width: g.kernel.w, stride_h: g.stride.h, stride_w: g.stride.w,
            dilation_h: g.dilation.h, dilation_w: g.dilation.w, pad_top: g.pads.top, pad_left: g.pads.left,
            c_begin: 0, c_end: l.groupInputChannels, oy_begin: 0, oy_end: g.output.h)
        let pointwise = l.isPointwise
        let bandIm2col = columns.map { BandIm2col(im2col: im2col, params: im2colParams, columns: $0, pool: pool) }
        let m = l.groupOutputChannels, n = l.outputPlane, k = l.reduction
        let width = g.output.w, height = g.output.h
        let band = bandRows(l)
        let groupChannels = l.groupInputChannels
        let inputImage = l.inputChannels * l.inputPlane, outputImage = l.outputChannels * n
        return {
            for image in 0..<l.batch {
                let xn = x + image * inputImage, yn = y + image * outputImage
                var top = 0
                while top < height {
                    let bottom = min(top + band, height)
                    let first = top * width, count = (bottom - top) * width
                    for group in 0..<l.group {
                        // Pointwise: the input rows are the B matrix as they are (leading dimension n).
                        var b = xn + group * groupChannels * l.inputPlane + first
                        var ldb = n
                        if !pointwise, let bandIm2col {
                            bandIm2col.run(xn, channelOffset: group * groupChannels, rows: top..<bottom)
                            b = UnsafePointer(bandIm2col.columns)
                            ldb = count
                        }
                        sgemm.run(m: m, n: count, k: k, a: w + group * m * k, lda: k, b: b, ldb: ldb,
                                  c: yn + group * m * n + first, ldc: n, epilogueRow: group * m)
                    }
                    top = bottom
                }
            }
        }
    }
}

extension ConvOperator {
    /// Each thread runs whole bands: im2col into its own workspace slice, single-threaded sgemm, epilogue.
    fileprivate static func bandParallel(_ l: Layout, _ activation: FusedActivationSpec, _ buffers: OpBuffers,
                                         _ plan: BandPlan) -> Kernel {
        let g = l.geometry
        let im2col = spw_get_kernel_config().pointee.f32_im2col!
        let workspace = buffers.workspace?.assumingMemoryBound(to: Float.self)
        let x = buffers.input(0), w = buffers.input(1), y = buffers.output(0)
        let pool = buffers.pool
        let epilogue = GemmEpilogue(bias: buffers.optionalInput(2), activation: activation, pool: pool,
                                    residual: residual(buffers))
        let base = spw_f32_im2col_params(
            input_channels: l.inputChannels, channel_offset: 0, group_channels: l.groupInputChannels,
            input_height: g.input.h, input_width: g.input.w, output_height: g.output.h, output_width: g.output.w,
            kernel_height: g.kernel.h, kernel_width: g.kernel.w, stride_h: g.stride.h, stride_w: g.stride.w,
            dilation_h: g.dilation.h, dilation_w: g.dilation.w, pad_top: g.pads.top, pad_left: g.pads.left,
            c_begin: 0, c_end: l.groupInputChannels, oy_begin: 0, oy_end: g.output.h)
        let pointwise = l.isPointwise
        let m = l.groupOutputChannels, n = l.outputPlane, k = l.reduction
        let width = g.output.w, height = g.output.h
        let groupChannels = l.groupInputChannels, groups = l.group, inputPlane = l.inputPlane
        let slotFloats = k * plan.rows * width
        let slots = plan.slots, bandRows = plan.rows, bandCount = plan.count
        let inputImage = l.inputChannels * l.inputPlane, outputImage = l.outputChannels * n
        var loops: [ParallelLoop] = []
        for image in 0..<l.batch {
            let xn = x + image * inputImage, yn = y + image * outputImage
            loops.append(ParallelLoop(pool: pool, count: slots) { slot in
                let columns = workspace.map { $0 + slot * slotFloats }
                var band = slot
                while band < bandCount {
                    let top = band * bandRows, bottom = min(top + bandRows, height)
                    let first = top * width, count = (bottom - top) * width
                    var group = 0
                    while group < groups {
                        var b = xn + group * groupChannels * inputPlane + first
                        var ldb = n
                        if !pointwise, let columns {
                            var p = base
                            p.channel_offset = group * groupChannels
                            p.oy_begin = top
                            p.oy_end = bottom
                            im2col(&p, xn, columns)
                            b = UnsafePointer(columns)
                            ldb = count
                        }
                        let c = yn + group * m * n + first
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(count), Int32(k), 1,
                                    w + group * m * k, Int32(k), b, Int32(ldb), 0, c, Int32(n))
                        epilogue.applyInline(c, rows: m, columns: count, rowStride: n, firstRow: group * m)
                        group += 1
                    }
                    band += slots
                }
            })
        }
        return {
            var index = 0
            while index < loops.count {
                loops[index].run()
                index += 1
            }
        }
    }
}

/// The im2col of one band of output rows, split over input-channel ranges. Built once at plan time; the kernel
/// names the band before each run, so that running allocates nothing.
private final class BandIm2col {
    let columns: UnsafeMutablePointer<Float>
    private let im2col: spw_f32_im2col_ukernel_fn
    private let pool: ThreadPool
    private let chunks: Int
    private var params: spw_f32_im2col_params
    private var input: UnsafePointer<Float>?
    private var body: (Int) -> Void = { _ in }

    init(im2col: @escaping spw_f32_im2col_ukernel_fn, params: spw_f32_im2col_params,
         columns: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        self.im2col = im2col
        self.params = params
        self.columns = columns
        self.pool = pool
        chunks = pool.threadCount == 1 ? 1 : min(params.group_channels, pool.threadCount * 2)
        body = { [unowned self] chunk in
            var p = self.params
            p.c_begin = chunk * p.group_channels / self.chunks
            p.c_end = (chunk + 1) * p.group_channels / self.chunks
            self.im2col(&p, self.input, self.columns)
        }
    }

    func run(_ input: UnsafePointer<Float>, channelOffset: Int, rows: Range<Int>) {
        self.input = input
        params.channel_offset = channelOffset
        params.oy_begin = rows.lowerBound
        params.oy_end = rows.upperBound
        pool.parallelFor(chunks, body)
    }
}

/// Bias, clamp and activation after a GEMM, row = output channel; rows split over the pool. A class built at
/// plan time: `apply` stores the block it works on and hands the workers one prebuilt body.
final class GemmEpilogue {
    let bias: UnsafePointer<Float>?
    let residual: (base: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>)?
    let activation: FusedActivationSpec
    private let pool: ThreadPool
    private let run: spw_f32_bias_act_ukernel_fn
    private var data: UnsafeMutablePointer<Float>?
    private var rows = 0
    private var columns = 0
    private var stride = 0
    private var chunks = 1
    private var body: (Int) -> Void = { _ in }

    /// - Parameter residual: a tensor laid out like the GEMM's output (`output` is the output's base), added
    ///   after the bias and before the activation (a fused residual Add).
    init(bias: UnsafePointer<Float>?, activation: FusedActivationSpec, pool: ThreadPool,
         residual: (base: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>)? = nil) {
        self.bias = bias
        self.residual = residual
        self.activation = activation
        self.pool = pool
        run = spw_get_kernel_config().pointee.f32_bias_act!
        body = { [unowned self] chunk in self.apply(chunk: chunk) }
    }

    var isNoOp: Bool { bias == nil && residual == nil && activation.kind == .none }

    /// - Parameter rowStride: distance between rows (defaults to `columns`: a dense block).
    func apply(_ data: UnsafeMutablePointer<Float>, rows: Int, columns: Int, rowStride: Int? = nil) {
        if isNoOp { return }
        self.data = data
        self.rows = rows
        self.columns = columns
        stride = rowStride ?? columns
        chunks = pool.threadCount == 1 || rows * columns < 16_384 ? 1 : min(rows, pool.threadCount * 2)
        pool.parallelFor(chunks, body)
    }

    private func apply(chunk: Int) {
        guard let data else { return }
        let begin = chunk * rows / chunks, end = (chunk + 1) * rows / chunks
        applyInline(data + begin * stride, rows: end - begin, columns: columns, rowStride: stride, firstRow: begin)
    }

    /// Applies the epilogue on the calling thread to a block whose first row takes bias row `firstRow`.
    func applyInline(_ data: UnsafeMutablePointer<Float>, rows: Int, columns: Int, rowStride: Int, firstRow: Int) {
        if isNoOp { return }
        let clamp = activation.clamp
        // The residual is laid out like the output, so the block's offset in the output is its offset there too.
        var p = spw_f32_bias_act_params(rows: rows, cols: columns, row_stride: rowStride,
                                        output_min: clamp.min, output_max: clamp.max,
                                        residual: residual.map { $0.base + (data - $0.output) },
                                        residual_stride: rowStride)
        run(&p, bias.map { $0 + firstRow }, data)
        if activation.needsSecondPass {
            var row = 0
            while row < rows {
                activation.applySecondPass(data + row * rowStride, count: columns)
                row += 1
            }
        }
    }
}
