internal import COpenBLAS

/// `y = alpha·op(A)·x + beta·y` for a row-major A, with the outputs split over the session's pool; each slice
/// one single-threaded OpenBLAS call (see `ParallelSgemm` for why OpenBLAS never runs its own threads).
final class ParallelSgemv {
    private let pool: ThreadPool
    /// `true`: A is [outputs, inputs] (y = A·x); `false`: A is [inputs, outputs] (y = Aᵀ·x).
    private let rowsAreOutputs: Bool
    private var outputs = 0, inputs = 0
    private var alpha: Float = 1, beta: Float = 0
    private var a: UnsafePointer<Float>?
    private var x: UnsafePointer<Float>?
    private var y: UnsafeMutablePointer<Float>?
    private var lda = 0
    private var slices = 1
    private var body: (Int) -> Void = { _ in }

    init(pool: ThreadPool, rowsAreOutputs: Bool) {
        self.pool = pool
        self.rowsAreOutputs = rowsAreOutputs
        body = { [unowned self] slice in self.compute(slice: slice) }
    }

    func run(outputs: Int, inputs: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
             x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>) {
        if outputs == 0 { return }
        self.outputs = outputs
        self.inputs = inputs
        self.alpha = alpha
        self.beta = beta
        self.a = a
        self.x = x
        self.y = y
        self.lda = lda
        // A matrix-vector product is bound by reading A: split only when A is larger than L2 per thread.
        slices = pool.threadCount == 1 || outputs * inputs < 1 << 17 ? 1 : min(pool.threadCount, outputs / 64)
        pool.parallelFor(max(slices, 1), body)
    }

    private func compute(slice: Int) {
        guard let a, let x, let y else { return }
        let count = max(slices, 1)
        // Whole groups of 16 outputs per slice keep each slice's loads aligned like the full product.
        let groups = (outputs + 15) / 16
        let first = min(outputs, slice * groups / count * 16), last = min(outputs, (slice + 1) * groups / count * 16)
        if first >= last { return }
        if rowsAreOutputs {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(last - first), Int32(inputs), alpha, a + first * lda,
                        Int32(lda), x, 1, beta, y + first, 1)
        } else {
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(inputs), Int32(last - first), alpha, a + first,
                        Int32(lda), x, 1, beta, y + first, 1)
        }
    }
}
