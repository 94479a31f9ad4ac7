/// ONNX ConvTranspose over NCHW f32: per image and group one sgemm Wᵀ·X into columns, then col2im scatter-add
/// into the output, which starts as the bias. Fused activation as for Conv.
struct ConvTransposeOperator: Operator {
    struct Layout {
        var batch: Int, inputChannels: Int, outputChannels: Int, group: Int
        var input: (h: Int, w: Int), output: (h: Int, w: Int)
        var kernel: (h: Int, w: Int), stride: (h: Int, w: Int), dilation: (h: Int, w: Int)
        var padTop: Int, padLeft: Int

        var groupInputChannels: Int { inputChannels / group }
        var groupOutputChannels: Int { outputChannels / group }
        var columnRows: Int { groupOutputChannels * kernel.h * kernel.w }
    }

    static func layout(_ context: OpContext) throws -> Layout {
        let x = try context.input(0), w = try context.input(1)
        guard x.dtype == .float32, w.dtype == .float32 else { throw context.unsupported("ConvTranspose runs on f32 only") }
        guard x.shape.count == 4, w.shape.count == 4 else {
            throw context.unsupported("ConvTranspose needs 4-D input and weights, got \(x.shape) and \(w.shape)")
        }
        let group = try context.int("group", 1)
        guard group >= 1, x.shape[1] == w.shape[0], x.shape[1] % group == 0 else {
            throw context.fail("weights \(w.shape) do not match input \(x.shape) with group \(group)")
        }
        let outputChannels = w.shape[1] * group
        if context.hasInput(2), try context.input(2).count != outputChannels {
            throw context.fail("bias size differs from \(outputChannels) output channels")
        }
        let strides = try context.ints("strides") ?? [1, 1]
        let dilations = try context.ints("dilations") ?? [1, 1]
        let outputPadding = try context.ints("output_padding") ?? [0, 0]
        var pads = try context.ints("pads") ?? [0, 0, 0, 0]
        guard strides.count == 2, dilations.count == 2, outputPadding.count == 2, pads.count == 4,
              strides.allSatisfy({ $0 >= 1 }), dilations.allSatisfy({ $0 >= 1 }), pads.allSatisfy({ $0 >= 0 }),
              outputPadding.allSatisfy({ $0 >= 0 })
        else { throw context.fail("bad strides, dilations, pads or output_padding") }
        let input = (x.shape[2], x.shape[3]), kernel = (w.shape[2], w.shape[3])
        let extent = [(kernel.0 - 1) * dilations[0] + 1, (kernel.1 - 1) * dilations[1] + 1]
        let full = [strides[0] * (input.0 - 1) + outputPadding[0] + extent[0],
                    strides[1] * (input.1 - 1) + outputPadding[1] + extent[1]]
        let autoPad = try context.string("auto_pad", "NOTSET")
        var requested = try context.ints("output_shape")
        if requested == nil, autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
            requested = [input.0 * strides[0], input.1 * strides[1]]
        }
        if let shape = requested?.suffix(2), shape.count == 2 {
            let wanted = Array(shape)
            for axis in 0..<2 {
                let total = full[axis] - wanted[axis]
                guard total >= 0 else { throw context.fail("output_shape \(wanted) is larger than the full output \(full)") }
                let half = total / 2
                (pads[axis], pads[axis + 2]) = autoPad == "SAME_UPPER" ? (half, total - half) : (total - half, half)
            }
        } else if autoPad == "VALID" {
            pads = [0, 0, 0, 0]
        }
        let output = (full[0] - pads[0] - pads[2], full[1] - pads[1] - pads[3])
        guard output.0 > 0, output.1 > 0 else { throw context.fail("pads leave no output") }
        return Layout(batch: x.shape[0], inputChannels: x.shape[1], outputChannels: outputChannels, group: group,
                      input: input, output: output, kernel: kernel, stride: (strides[0], strides[1]),
                      dilation: (dilations[0], dilations[1]), padTop: pads[0], padLeft: pads[1])
    }

    static func infer(_ context: OpContext) throws -> [TensorType] {
        let l = try layout(context)
        _ = try FusedActivationSpec(context)
        return [TensorType(.float32, [l.batch, l.outputChannels, l.output.h, l.output.w])]
    }

    static func workspaceBytes(_ context: OpContext, outputs: [TensorType]) throws -> Int {
        let l = try layout(context)
        return l.columnRows * l.input.h * l.input.w * MemoryLayout<Float>.size
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        let l = try layout(context)
        let activation = try FusedActivationSpec(context)
        let x = buffers.input(0), w = buffers.input(1), bias = buffers.optionalInput(2), y = buffers.output(0)
        let columns = buffers.workspace!.assumingMemoryBound(to: Float.self)
        let epilogue = GemmEpilogue(bias: nil, activation: activation, pool: buffers.pool)
        let inputPlane = l.input.h * l.input.w, outputPlane = l.output.h * l.output.w
        let sgemm = ParallelSgemm(pool: buffers.pool, transA: true)
        return {
            for image in 0..<l.batch {
                let xn = x + image * l.inputChannels * inputPlane
                let yn = y + image * l.outputChannels * outputPlane
                for c in 0..<l.outputChannels {
                    (yn + c * outputPlane).update(repeating: bias?[c] ?? 0, count: outputPlane)
                }
                for g in 0..<l.group {
                    let wg = w + g * l.groupInputChannels * l.columnRows
                    sgemm.run(m: l.columnRows, n: inputPlane, k: l.groupInputChannels, a: wg, lda: l.columnRows,
                              b: xn + g * l.groupInputChannels * inputPlane, ldb: inputPlane, c: columns,
                              ldc: inputPlane)
                    scatter(l, columns, into: yn + g * l.groupOutputChannels * outputPlane)
                }
                epilogue.apply(yn, rows: l.outputChannels, columns: outputPlane)
            }
        }
    }

    /// col2im: adds every column entry to the output pixel its tap lands on.
    private static func scatter(_ l: Layout, _ columns: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        let inputPlane = l.input.h * l.input.w, outputPlane = l.output.h * l.output.w
        for co in 0..<l.groupOutputChannels {
            let plane = y + co * outputPlane
            for ky in 0..<l.kernel.h {
                for kx in 0..<l.kernel.w {
                    let row = columns + ((co * l.kernel.h + ky) * l.kernel.w + kx) * inputPlane
                    for iy in 0..<l.input.h {
                        let oy = iy * l.stride.h - l.padTop + ky * l.dilation.h
                        if oy < 0 || oy >= l.output.h { continue }
                        let source = row + iy * l.input.w, target = plane + oy * l.output.w
                        for ix in 0..<l.input.w {
                            let ox = ix * l.stride.w - l.padLeft + kx * l.dilation.w
                            if ox >= 0 && ox < l.output.w { target[ox] += source[ix] }
                        }
                    }
                }
            }
        }
    }
}
