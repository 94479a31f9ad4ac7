/// Gemm whose B is stored sparse: Y[M, N] = A[M, K] · Bᵀ + C with B = [N, K] (transB = 1, the layout of every
/// exported fully connected layer), alpha 1, C absent or one value per output feature. Rows of the SpMM are
/// output features. One image (M = 1) reads A in place; a batch is transposed to [K, M] first and the [N, M]
/// result transposed back.
struct SparseGemm {
    let shape: GemmOperator.Shape
    let matrix: SparseMatrix

    /// `nil` when the node's form needs the dense path (transposed A, alpha ≠ 1, C other than per feature).
    init?(_ context: OpContext, shape: GemmOperator.Shape, matrix: SparseMatrix) throws {
        guard shape.transB, !shape.transA, try context.float("alpha", 1) == 1,
              matrix.rows == shape.n, matrix.cols == shape.k else { return nil }
        if context.hasInput(2) {
            guard try context.float("beta", 1) == 1,
                  BiasBroadcast(shape: try context.input(2).shape, m: shape.m, n: shape.n) == .perColumn else { return nil }
        }
        self.shape = shape
        self.matrix = matrix
    }

    var workspaceBytes: Int { shape.m == 1 ? 0 : 2 * shape.m * (shape.k + shape.n) * MemoryLayout<Float>.size }

    func prepare(activation: FusedActivationSpec, buffers: OpBuffers) -> Kernel {
        let m = shape.m, n = shape.n, k = shape.k
        let a = buffers.input(0), bias = buffers.optionalInput(2), y = buffers.output(0)
        let pool = buffers.pool
        if m == 1 {
            let offsets = SpMMOperands(matrix) { $0 }
            let product = SpMMPlan(operands: offsets, input: a, pixels: 1, output: y,
                                   outputStride: 1, bias: bias, clamp: activation.clamp, pool: pool)
            return {
                withExtendedLifetime(offsets) { product.run() }
                activation.applySecondPass(y, count: n)
            }
        }
        let transposed = buffers.workspace!.assumingMemoryBound(to: Float.self)
        let result = transposed + k * m
        let offsets = SpMMOperands(matrix) { $0 * m }
        let product = SpMMPlan(operands: offsets, input: transposed, pixels: m, output: result,
                               outputStride: m, bias: bias, clamp: activation.clamp, pool: pool)
        return {
            for row in 0..<m {
                for column in 0..<k { transposed[column * m + row] = a[row * k + column] }
            }
            withExtendedLifetime(offsets) { product.run() }
            for row in 0..<m {
                for column in 0..<n { y[row * n + column] = result[column * m + row] }
            }
            activation.applySecondPass(y, count: m * n)
        }
    }
}
