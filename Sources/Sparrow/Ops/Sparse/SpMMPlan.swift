internal import CKernels

/// One sparse × dense product with fixed operands, split over the session's pool once at plan time.
///
/// `output[r][p] = clamp(bias[r] + Σ_j values[j] · input[offsets[j] + p])` for every row r of the matrix and
/// p < pixels. Wide products are split by pixels (blocks of 32, so every slice but the last runs full vector
/// blocks and all threads read the same weights); narrow ones (a 7×7 feature map, a classifier) by rows, with
/// boundaries that balance nonzeros rather than row counts.
final class SpMMPlan {
    private let loop: ParallelLoop
    /// The kernels read the matrix's row pointers and values, and `offsets`, on every run.
    private let matrix: SparseMatrix
    private let offsets: SparseOffsets

    /// - Parameters:
    ///   - offsets: per nonzero, the element offset of its input run.
    ///   - outputStride: elements between output rows (≥ pixels).
    init(matrix: SparseMatrix, offsets offsetTable: SparseOffsets, input: UnsafePointer<Float>, pixels: Int,
         output: UnsafeMutablePointer<Float>, outputStride: Int, bias: UnsafePointer<Float>?,
         clamp: (min: Float, max: Float), pool: ThreadPool) {
        self.matrix = matrix
        self.offsets = offsetTable
        let offsets = UnsafePointer(offsetTable.pointer)
        let run = SpMMSelection.function
        let rows = matrix.rows
        let rowPointers = matrix.rowPointers
        let values = matrix.values
        let threads = pool.threadCount
        let work = matrix.nonzeros * pixels
        // Below ~64k multiply-adds a second thread costs more to wake than it saves.
        let wanted = threads == 1 || work < 1 << 16 ? 1 : threads
        if wanted > 1 && pixels >= wanted * 64 {
            let blocks = (pixels + 31) / 32
            let slices = min(wanted, blocks)
            loop = ParallelLoop(pool: pool, count: slices) { slice in
                let first = min(pixels, slice * blocks / slices * 32)
                let last = min(pixels, (slice + 1) * blocks / slices * 32)
                if first >= last { return }
                var p = spw_f32_spmm_params(rows: rows, pixels: last - first, output_stride: outputStride,
                                            output_min: clamp.min, output_max: clamp.max)
                run(&p, input + first, rowPointers, offsets, values, bias, output + first)
            }
        } else {
            let bounds = Self.balancedRows(matrix, slices: wanted)
            loop = ParallelLoop(pool: pool, count: bounds.count - 1) { slice in
                let first = bounds[slice], last = bounds[slice + 1]
                if first >= last { return }
                var p = spw_f32_spmm_params(rows: last - first, pixels: pixels, output_stride: outputStride,
                                            output_min: clamp.min, output_max: clamp.max)
                run(&p, input, rowPointers + first, offsets, values, bias.map { $0 + first },
                    output + first * outputStride)
            }
        }
    }

    func run() { loop.run() }

    /// Row boundaries `[0, …, rows]` cutting the matrix into `slices` runs of about equal nonzeros (each row
    /// also costs a little on its own: its bias and store).
    static func balancedRows(_ matrix: SparseMatrix, slices: Int) -> [Int] {
        let rows = matrix.rows
        if slices <= 1 || rows <= 1 { return [0, rows] }
        let rowCost = 4
        let total = matrix.nonzeros + rows * rowCost
        var bounds = [0]
        var row = 0
        for slice in 1..<slices {
            let target = total * slice / slices
            while row < rows && Int(matrix.rowPointers[row]) + row * rowCost < target { row += 1 }
            bounds.append(max(row, bounds.last!))
        }
        bounds.append(rows)
        return bounds
    }
}

/// Per-nonzero input offsets for a layer: the kernels read `input[offsets[j] + p]`, so the layer's geometry
/// (plane sizes, padding, phases) is folded in here once.
final class SparseOffsets {
    let pointer: UnsafeMutablePointer<UInt32>

    /// - Parameter offset: the input offset of column `column` of the matrix; must fit in u32.
    init(_ matrix: SparseMatrix, _ offset: (Int) -> Int) {
        pointer = .allocate(capacity: max(matrix.nonzeros, 1))
        for j in 0..<matrix.nonzeros { pointer[j] = UInt32(truncatingIfNeeded: offset(Int(matrix.columns[j]))) }
    }

    deinit { pointer.deallocate() }
}
