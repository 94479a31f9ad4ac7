#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The operands the SpMM kernels read for one layer: per nonzero the element offset of its input run (the
/// layer's geometry — plane sizes, padding, phases — folded in once), and the nonzeros optionally regrouped in
/// runs of input channels.
///
/// Why runs: the kernel keeps a block of up to 64 pixels of every input channel a row reads in flight, and with
/// many channels (ResNet-50's 1024- and 2048-channel 1x1 layers at 14×14 and 7×7) that block outgrows L1 and the
/// scattered loads come from L2. Cut into runs of channels whose block fits in about 40 KiB, each run's loads hit
/// L1; the price is one extra load and store of the output per run. Measured on Zen 3 (AVX2 kernel, 1 thread, 90%
/// sparse, fastest samples of two runs of `spmm_bench -cpu -s S -v avx2 -k N` against `-k 0`): 512×2048×49 1.5–1.7x
/// faster in runs of 128 channels, 256×1024×196 1.2–1.3x. Products whose block fits stay in one run.
///
/// With one run the matrix's own row pointers and values are used in place (from the mapped file for CSR); with
/// several, the nonzeros are copied run-major: run k's nonzeros of every row form a CSR of their own, at
/// `rowPointers + k·(rows + 1)`, in the original order within each row.
final class SpMMOperands {
    let rows: Int
    let nonzeros: Int
    let runs: Int
    let rowPointers: UnsafeMutablePointer<UInt32>
    let offsets: UnsafeMutablePointer<UInt32>
    let values: UnsafePointer<Float>
    /// Keeps the mapped matrix alive while its row pointers and values are read in place.
    private let matrix: SparseMatrix
    private let ownsLayout: Bool

    /// `SPARROW_SPMM_RUNS=off` keeps every product in one run (for benchmarks).
    static let enabled = getenv("SPARROW_SPMM_RUNS").map { String(cString: $0) != "off" } ?? true

    /// Footprint above which a product is cut into runs, and the size each run aims at.
    static let runThresholdBytes = 64 * 1024
    static let runTargetBytes = 40 * 1024

    /// - Parameters:
    ///   - columnsPerRun: columns of the matrix per run (a multiple of the columns one input channel spans);
    ///     `nil` or ≥ cols: a single run.
    ///   - offset: the input offset of column `column` of the matrix; must fit in u32.
    init(_ matrix: SparseMatrix, columnsPerRun: Int? = nil, offset: (Int) -> Int) {
        self.matrix = matrix
        rows = matrix.rows
        nonzeros = matrix.nonzeros
        let width = max(columnsPerRun ?? matrix.cols, 1)
        runs = max(1, (matrix.cols + width - 1) / width)
        offsets = .allocate(capacity: max(nonzeros, 1))
        if runs == 1 {
            ownsLayout = false
            rowPointers = UnsafeMutablePointer(mutating: matrix.rowPointers)
            values = matrix.values
            for j in 0..<nonzeros { offsets[j] = UInt32(truncatingIfNeeded: offset(Int(matrix.columns[j]))) }
            return
        }
        ownsLayout = true
        let pointers = UnsafeMutablePointer<UInt32>.allocate(capacity: runs * (rows + 1))
        let copied = UnsafeMutablePointer<Float>.allocate(capacity: max(nonzeros, 1))
        // Counting sort of the nonzeros by (run, row), stable within a row.
        var counts = [Int](repeating: 0, count: runs * rows)
        for row in 0..<rows {
            for j in matrix.range(ofRow: row) { counts[Int(matrix.columns[j]) / width * rows + row] += 1 }
        }
        var next = [Int](repeating: 0, count: runs * rows)
        var total = 0
        for run in 0..<runs {
            for row in 0..<rows {
                pointers[run * (rows + 1) + row] = UInt32(total)
                next[run * rows + row] = total
                total += counts[run * rows + row]
            }
            pointers[run * (rows + 1) + rows] = UInt32(total)
        }
        for row in 0..<rows {
            for j in matrix.range(ofRow: row) {
                let column = Int(matrix.columns[j])
                let slot = column / width * rows + row
                let target = next[slot]
                next[slot] += 1
                copied[target] = matrix.values[j]
                offsets[target] = UInt32(truncatingIfNeeded: offset(column))
            }
        }
        rowPointers = pointers
        values = UnsafePointer(copied)
    }

    deinit {
        offsets.deallocate()
        if ownsLayout {
            rowPointers.deallocate()
            UnsafeMutablePointer(mutating: values).deallocate()
        }
    }

    /// Nonzeros of rows `0..<row` over every run.
    func nonzeros(beforeRow row: Int) -> Int {
        var count = 0
        for run in 0..<runs {
            let base = run * (rows + 1)
            count += Int(rowPointers[base + row]) - Int(rowPointers[base])
        }
        return count
    }

    /// Input channels per run for a product whose pixel block reads `floatsPerChannel` floats of each of
    /// `channels` input channels: all of them while that stays under `runThresholdBytes`, else runs of about
    /// `runTargetBytes`, as even as possible.
    static func channelsPerRun(channels: Int, floatsPerChannel: Int) -> Int {
        let footprint = channels * floatsPerChannel * MemoryLayout<Float>.size
        if footprint <= runThresholdBytes || channels <= 1 { return channels }
        let count = (footprint + runTargetBytes - 1) / runTargetBytes
        return (channels + count - 1) / count
    }
}
