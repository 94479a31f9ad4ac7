internal import CKernels

/// One sparse × dense product with fixed operands, split over the session's pool once at plan time.
///
/// `output[r][p] = clamp(bias[r] + Σ_j values[j] · input[offsets[j] + p] [+ residual[r][p]])` for every row r
/// of the matrix and p < pixels. Wide products are split by pixels (blocks of 32, so every slice but the last
/// runs full vector blocks and all threads read the same weights); narrow ones (a 7×7 feature map, a classifier)
/// by rows, with boundaries that balance nonzeros rather than row counts. When the operands come in runs of
/// input channels (`SpMMOperands`), each slice runs them in order, every run after the first adding to the
/// output the previous ones left.
final class SpMMPlan {
    private let loop: ParallelLoop
    /// The kernels read the operands' row pointers, offsets and values on every run.
    private let operands: SpMMOperands

    /// - Parameters:
    ///   - outputStride: elements between output rows (≥ pixels).
    ///   - residual: added to every output before the clamp (a fused residual Add), laid out like the output
    ///     with its own row stride.
    init(operands: SpMMOperands, input: UnsafePointer<Float>, pixels: Int, output: UnsafeMutablePointer<Float>,
         outputStride: Int, bias: UnsafePointer<Float>?, clamp: (min: Float, max: Float),
         residual: (base: UnsafePointer<Float>, stride: Int)? = nil, pool: ThreadPool) {
        self.operands = operands
        let run = SpMMSelection.function
        let rows = operands.rows, runs = operands.runs
        let rowPointers = UnsafePointer(operands.rowPointers), offsets = UnsafePointer(operands.offsets)
        let values = operands.values
        let threads = pool.threadCount
        let work = operands.nonzeros * pixels
        // One call per run of input channels; only the first takes the bias and the residual, only the last
        // clamps, and each later one adds to the output in place.
        let call = { (rowsInSlice: Int, firstRow: Int, firstPixel: Int, count: Int) in
            let out = output + firstRow * outputStride + firstPixel
            var index = 0
            while index < runs {
                let last = index == runs - 1
                let add: UnsafePointer<Float>? = index > 0
                    ? UnsafePointer(out) : residual.map { $0.base + firstRow * $0.stride + firstPixel }
                var p = spw_f32_spmm_params(
                    rows: rowsInSlice, pixels: count, output_stride: outputStride,
                    output_min: last ? clamp.min : -.infinity, output_max: last ? clamp.max : .infinity,
                    residual: add, residual_stride: index > 0 ? outputStride : residual?.stride ?? 0)
                run(&p, input + firstPixel, rowPointers + index * (rows + 1) + firstRow, offsets, values,
                    index == 0 ? bias.map { $0 + firstRow } : nil, out)
                index += 1
            }
        }
        // Below ~64k multiply-adds a second thread costs more to wake than it saves.
        let wanted = threads == 1 || work < 1 << 16 ? 1 : threads
        if wanted > 1 && pixels >= wanted * 64 {
            let blocks = (pixels + 31) / 32
            let slices = min(wanted, blocks)
            loop = ParallelLoop(pool: pool, count: slices) { slice in
                let first = min(pixels, slice * blocks / slices * 32)
                let last = min(pixels, (slice + 1) * blocks / slices * 32)
                if first >= last { return }
                call(rows, 0, first, last - first)
            }
        } else {
            let bounds = Self.balancedRows(operands, slices: wanted)
            loop = ParallelLoop(pool: pool, count: bounds.count - 1) { slice in
                let first = bounds[slice], last = bounds[slice + 1]
                if first >= last { return }
                call(last - first, first, 0, pixels)
            }
        }
    }

    func run() { loop.run() }

    /// Row boundaries `[0, …, rows]` cutting the matrix into `slices` runs of about equal nonzeros (each row
    /// also costs a little on its own: its bias and store).
    static func balancedRows(_ operands: SpMMOperands, slices: Int) -> [Int] {
        let rows = operands.rows
        if slices <= 1 || rows <= 1 { return [0, rows] }
        let rowCost = 4 * operands.runs
        let total = operands.nonzeros + rows * rowCost
        var bounds = [0]
        var row = 0
        for slice in 1..<slices {
            let target = total * slice / slices
            while row < rows && operands.nonzeros(beforeRow: row) + row * rowCost < target { row += 1 }
            bounds.append(max(row, bounds.last!))
        }
        bounds.append(rows)
        return bounds
    }
}
