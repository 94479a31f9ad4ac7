internal import COpenBLAS

/// Row-major `C = alpha·op(A)·op(B) + beta·C` split over the session's pool, each slice one single-threaded
/// OpenBLAS call, with an optional epilogue applied by the thread that computed the slice.
///
/// Why not OpenBLAS's own threads: its threaded sgemm heap-allocates a job table on every call (measured with
/// OpenBLAS 0.3.21: one malloc per call at 2 threads, none at 1), and a kernel must not allocate; it also
/// cannot share a core with the im2col and epilogue work around it. OpenBLAS therefore always runs with one
/// thread (`BLASThreads`), and this type splits the columns of C (or its rows, when C is narrow) so that each
/// slice keeps OpenBLAS's packing efficient. A class built at plan time: `run` stores the operands and hands
/// the workers one prebuilt body, so it allocates nothing.
final class ParallelSgemm {
    private let pool: ThreadPool
    private let transA: Bool
    private let transB: Bool
    private let epilogue: GemmEpilogue?
    private var m = 0, n = 0, k = 0
    private var alpha: Float = 1, beta: Float = 0
    private var a: UnsafePointer<Float>?
    private var b: UnsafePointer<Float>?
    private var c: UnsafeMutablePointer<Float>?
    private var lda = 0, ldb = 0, ldc = 0
    private var epilogueRow = 0
    private var slices = 1
    private var splitColumns = true
    private var body: (Int) -> Void = { _ in }

    /// Fewest columns (or rows) worth a slice: below this OpenBLAS's micro-kernel tiles run mostly empty.
    static let minimumSlice = 32

    init(pool: ThreadPool, transA: Bool = false, transB: Bool = false, epilogue: GemmEpilogue? = nil) {
        self.pool = pool
        self.transA = transA
        self.transB = transB
        self.epilogue = epilogue.flatMap { $0.isNoOp ? nil : $0 }
        body = { [unowned self] slice in self.compute(slice: slice) }
    }

    /// - Parameter epilogueRow: row of the epilogue's bias that C's first row takes (bands of a taller
    ///   output pass their first row).
    func run(m: Int, n: Int, k: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
             b: UnsafePointer<Float>, ldb: Int, beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
             epilogueRow: Int = 0) {
        if m == 0 || n == 0 { return }
        self.m = m
        self.n = n
        self.k = k
        self.alpha = alpha
        self.beta = beta
        self.a = a
        self.b = b
        self.c = c
        self.lda = lda
        self.ldb = ldb
        self.ldc = ldc
        self.epilogueRow = epilogueRow
        let threads = pool.threadCount
        // Work below ~2 MFLOP does not pay for waking a worker.
        if threads == 1 || m * n * k < 1 << 20 {
            slices = 1
        } else if n >= threads * Self.minimumSlice * 2 || n >= m {
            splitColumns = true
            slices = max(1, min(threads, n / Self.minimumSlice))
        } else {
            splitColumns = false
            slices = max(1, min(threads, m / Self.minimumSlice))
        }
        pool.parallelFor(slices, body)
    }

    private func compute(slice: Int) {
        guard let a, let b, let c else { return }
        if splitColumns {
            // Slices of whole 16-column groups, so that every slice but the last runs full vector tiles.
            let groups = (n + 15) / 16
            let first = min(n, slice * groups / slices * 16), last = min(n, (slice + 1) * groups / slices * 16)
            if first >= last { return }
            let bSlice = transB ? b + first * ldb : b + first
            gemm(m, last - first, a, bSlice, c + first)
            epilogue?.applyInline(c + first, rows: m, columns: last - first, rowStride: ldc, firstRow: epilogueRow)
        } else {
            let first = slice * m / slices, last = (slice + 1) * m / slices
            if first >= last { return }
            let aSlice = transA ? a + first : a + first * lda
            gemm(last - first, n, aSlice, b, c + first * ldc)
            epilogue?.applyInline(c + first * ldc, rows: last - first, columns: n, rowStride: ldc,
                                  firstRow: epilogueRow + first)
        }
    }

    @inline(__always)
    private func gemm(_ rows: Int, _ columns: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                      _ c: UnsafeMutablePointer<Float>) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(rows), Int32(columns), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
