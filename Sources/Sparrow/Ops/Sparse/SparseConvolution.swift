internal import CKernels

/// Conv (group 1) whose weights are stored sparse, as one SpMM per image over a "phase-padded" copy of the
/// input.
///
/// A k×k convolution with stride s, dilation d and padding is a sum of shifted, strided views of the input.
/// Split the zero-padded input into s_h × s_w phases (phase (a, b) holds padded rows a, a + s_h, … and columns
/// b, b + s_w, …): then tap (ky, kx) of output (oy, ox) reads phase ((ky·d_h) mod s_h, (kx·d_w) mod s_w) at
/// (oy + ⌊ky·d_h / s_h⌋, ox + ⌊kx·d_w / s_w⌋) — a constant shift for every output. Laid out with the phase
/// width W′ as the row pitch, every output pixel p = oy·W′ + ox reads `phaseBase + shift + p`, so the whole
/// convolution is one SpMM whose per-nonzero offsets encode (channel, phase, shift). Outputs land in a
/// [Cout][Ho·W′] buffer and are compacted to [Cout][Ho][Wo] (skipped when W′ = Wo, e.g. 1×1 stride 2). A 1×1
/// stride-1 unpadded convolution needs no copy at all: the input planes are the SpMM's dense operand.
struct SparseConvolution {
    let layout: ConvOperator.Layout
    let matrix: SparseMatrix
    /// Phases actually read (a 1×1 stride-2 conv reads only phase (0, 0)), in row-major (a, b) order.
    let phases: [(a: Int, b: Int)]
    let phaseHeight: Int
    let phaseWidth: Int
    let direct: Bool

    init(layout l: ConvOperator.Layout, matrix: SparseMatrix) {
        layout = l
        self.matrix = matrix
        let g = l.geometry
        direct = l.isPointwise
        var used = Set<Int>()
        for ky in 0..<g.kernel.h {
            for kx in 0..<g.kernel.w {
                used.insert((ky * g.dilation.h % g.stride.h) * g.stride.w + kx * g.dilation.w % g.stride.w)
            }
        }
        phases = used.sorted().map { ($0 / g.stride.w, $0 % g.stride.w) }
        phaseHeight = g.output.h + (g.kernel.h - 1) * g.dilation.h / g.stride.h
        phaseWidth = g.output.w + (g.kernel.w - 1) * g.dilation.w / g.stride.w
    }

    private var phasePlane: Int { phaseHeight * phaseWidth }
    private var compacts: Bool { !direct && phaseWidth != layout.geometry.output.w }
    /// Pixels of the SpMM: every output position in W′-pitch rows, the last row cut at Wo.
    private var pixels: Int {
        let g = layout.geometry
        return direct ? layout.inputPlane : (g.output.h - 1) * phaseWidth + g.output.w
    }

    /// Workspace: the phase copy of one image and, when compacting, the W′-pitch outputs.
    var workspaceBytes: Int {
        if direct { return 0 }
        let phaseFloats = layout.inputChannels * phases.count * phasePlane
        let outputFloats = compacts ? layout.outputChannels * layout.geometry.output.h * phaseWidth : 0
        return (phaseFloats + outputFloats) * MemoryLayout<Float>.size + 64
    }

    /// Whether every offset fits the kernels' u32 offsets.
    var fitsOffsets: Bool {
        let span = direct ? layout.inputChannels * layout.inputPlane : layout.inputChannels * phases.count * phasePlane
        return span < Int(UInt32.max)
    }

    func prepare(activation: FusedActivationSpec, buffers: OpBuffers) -> Kernel {
        let l = layout, g = l.geometry
        let pool = buffers.pool
        let kernelArea = g.kernel.h * g.kernel.w
        let phaseIndex = Dictionary(uniqueKeysWithValues: phases.enumerated().map { ($0.element.a * g.stride.w + $0.element.b, $0.offset) })
        let plane = phasePlane, width = phaseWidth
        let offsets: SpMMOperands
        let runChannels = channelsPerRun
        if direct {
            let inputPlane = l.inputPlane
            offsets = SpMMOperands(matrix, columnsPerRun: runChannels) { $0 * inputPlane }
        } else {
            let count = phases.count
            offsets = SpMMOperands(matrix, columnsPerRun: runChannels * kernelArea) { column in
                let channel = column / kernelArea, tap = column % kernelArea
                let ky = tap / g.kernel.w * g.dilation.h, kx = tap % g.kernel.w * g.dilation.w
                let phase = phaseIndex[(ky % g.stride.h) * g.stride.w + kx % g.stride.w]!
                return (channel * count + phase) * plane + (ky / g.stride.h) * width + kx / g.stride.w
            }
        }
        let x = buffers.input(0), bias = buffers.optionalInput(2), y = buffers.output(0)
        let workspace = buffers.workspace?.assumingMemoryBound(to: Float.self)
        let phaseBuffer = workspace
        let wide = compacts ? workspace.map { $0 + l.inputChannels * phases.count * plane } : nil
        let outputImage = l.outputChannels * l.outputPlane, inputImage = l.inputChannels * l.inputPlane
        let clamp = activation.clamp
        let residual = buffers.optionalInput(3)
        var steps: [() -> Void] = []
        for image in 0..<l.batch {
            let xn = x + image * inputImage, yn = y + image * outputImage
            let rn = residual.map { (base: $0 + image * outputImage, stride: l.outputPlane) }
            if direct {
                let product = SpMMPlan(operands: offsets, input: xn, pixels: pixels, output: yn,
                                       outputStride: l.outputPlane, bias: bias, clamp: clamp, residual: rn,
                                       pool: pool)
                steps.append { product.run() }
            } else if let phaseBuffer {
                let fill = phaseFill(input: xn, into: phaseBuffer, pool: pool)
                let target = wide ?? yn
                let stride = compacts ? g.output.h * width : l.outputPlane
                // W′-pitch outputs do not line up with the residual's rows: compaction adds it and clamps.
                let product = SpMMPlan(operands: offsets, input: phaseBuffer, pixels: pixels,
                                       output: target, outputStride: stride, bias: bias,
                                       clamp: compacts && rn != nil ? (-.infinity, .infinity) : clamp,
                                       residual: compacts ? nil : rn, pool: pool)
                steps.append { fill.run() }
                steps.append { product.run() }
                if let wide {
                    let compact = compaction(from: wide, to: yn, residual: rn?.base, activation: activation,
                                             pool: pool)
                    steps.append { compact.run() }
                    continue
                }
            }
            if activation.needsSecondPass {
                let pass = ParallelLoop(pool: pool, count: 1) { _ in activation.applySecondPass(yn, count: outputImage) }
                steps.append { pass.run() }
            }
        }
        return {
            withExtendedLifetime(offsets) {
                var index = 0
                while index < steps.count {
                    steps[index]()
                    index += 1
                }
            }
        }
    }

    /// Input channels per run of the SpMM (`SpMMOperands`): what one block of pixels reads of each channel is
    /// the block (64 pixels, or all of them up to 96, the kernels' last pass) plus, through a phase-padded
    /// input, the largest tap shift, in every phase read.
    var channelsPerRun: Int {
        let g = layout.geometry
        let block = pixels <= 96 ? pixels : 64
        var perChannel = block
        if !direct {
            let shift = (g.kernel.h - 1) * g.dilation.h / g.stride.h * phaseWidth + (g.kernel.w - 1) * g.dilation.w / g.stride.w
            perChannel = phases.count * min(phasePlane, block + shift)
        }
        // Whole cache lines.
        perChannel = (perChannel + 15) / 16 * 16
        return SpMMOperands.enabled
            ? SpMMOperands.channelsPerRun(channels: layout.inputChannels, floatsPerChannel: perChannel)
            : layout.inputChannels
    }

    /// Copies one image into its zero-padded phases, split by channel.
    private func phaseFill(input: UnsafePointer<Float>, into buffer: UnsafeMutablePointer<Float>,
                           pool: ThreadPool) -> ParallelLoop {
        let l = layout, g = l.geometry
        let phases = self.phases, plane = phasePlane, height = phaseHeight, width = phaseWidth
        let channels = l.inputChannels
        let chunks = pool.threadCount == 1 ? 1 : min(channels, pool.threadCount * 2)
        return ParallelLoop(pool: pool, count: chunks) { chunk in
            for c in (chunk * channels / chunks)..<((chunk + 1) * channels / chunks) {
                let source = input + c * l.inputPlane
                for index in 0..<phases.count {
                    let phase = phases[index]
                    let target = buffer + (c * phases.count + index) * plane
                    for i in 0..<height {
                        let row = g.stride.h * i + phase.a - g.pads.top
                        let out = target + i * width
                        if row < 0 || row >= g.input.h {
                            out.update(repeating: 0, count: width)
                            continue
                        }
                        let inputRow = source + row * g.input.w
                        var j = 0
                        while j < width {
                            let column = g.stride.w * j + phase.b - g.pads.left
                            out[j] = column >= 0 && column < g.input.w ? inputRow[column] : 0
                            j += 1
                        }
                    }
                }
            }
        }
    }

    /// [Cout][Ho·W′] → [Cout][Ho][Wo], with the activation's second pass on the way; with a residual (which
    /// the SpMM left out, and with it the clamp), y = clamp(wide + residual) through the bias/clamp kernel.
    private func compaction(from wide: UnsafeMutablePointer<Float>, to y: UnsafeMutablePointer<Float>,
                            residual: UnsafePointer<Float>?, activation: FusedActivationSpec,
                            pool: ThreadPool) -> ParallelLoop {
        let g = layout.geometry
        let channels = layout.outputChannels, width = phaseWidth
        let chunks = pool.threadCount == 1 ? 1 : min(channels, pool.threadCount * 2)
        let clamp = activation.clamp
        let biasAct = spw_get_kernel_config().pointee.f32_bias_act!
        return ParallelLoop(pool: pool, count: chunks) { chunk in
            for c in (chunk * channels / chunks)..<((chunk + 1) * channels / chunks) {
                let source = wide + c * g.output.h * width
                let target = y + c * g.output.h * g.output.w
                for row in 0..<g.output.h {
                    (target + row * g.output.w).update(from: source + row * width, count: g.output.w)
                }
                if let residual {
                    let plane = g.output.h * g.output.w
                    var p = spw_f32_bias_act_params(rows: 1, cols: plane, row_stride: plane,
                                                    output_min: clamp.min, output_max: clamp.max,
                                                    residual: residual + c * plane, residual_stride: plane)
                    biasAct(&p, nil, target)
                }
                activation.applySecondPass(target, count: g.output.h * g.output.w)
            }
        }
    }
}
