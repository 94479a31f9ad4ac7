internal import COpenBLAS

/// ONNX Gemm: Y = alpha·op(A)·op(B) + beta·C, C broadcast to [M, N], with a fused activation.
struct GemmOperator: Operator {
    struct Shape {
        var m: Int, n: Int, k: Int
        var transA: Bool, transB: Bool
    }

    static func shape(_ context: OpContext) throws -> Shape {
        let a = try context.input(0), b = try context.input(1)
        guard a.dtype == .float32, b.dtype == .float32 else { throw context.unsupported("Gemm runs on f32 only") }
        guard a.shape.count == 2, b.shape.count == 2 else { throw context.fail("Gemm needs 2-D A and B, got \(a.shape), \(b.shape)") }
        let transA = try context.int("transA", 0) != 0, transB = try context.int("transB", 0) != 0
        let (m, ka) = transA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (kb, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        guard ka == kb else { throw context.fail("Gemm inner dimensions differ: \(a.shape) × \(b.shape)") }
        if context.hasInput(2) {
            let c = try context.input(2)
            guard BiasBroadcast(shape: c.shape, m: m, n: n) != nil else {
                throw context.fail("C \(c.shape) does not broadcast to [\(m), \(n)]")
            }
        }
        return Shape(m: m, n: n, k: ka, transA: transA, transB: transB)
    }

    static func infer(_ context: OpContext) throws -> [TensorType] {
        let s = try shape(context)
        _ = try FusedActivationSpec(context)
        return [TensorType(.float32, [s.m, s.n])]
    }

    static func readsSparse(_ context: OpContext, input index: Int) -> Bool {
        index == 1 && (try? sparsePath(context)) != nil
    }

    static func workspaceBytes(_ context: OpContext, outputs: [TensorType]) throws -> Int {
        try sparsePath(context)?.workspaceBytes ?? 0
    }

    /// The SpMM path when B is stored sparse and the node has a form it runs.
    static func sparsePath(_ context: OpContext) throws -> SparseGemm? {
        guard let matrix = context.sparseInput(1) else { return nil }
        return try SparseGemm(context, shape: try shape(context), matrix: matrix)
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        if let sparse = try sparsePath(context) {
            return sparse.prepare(activation: try FusedActivationSpec(context), buffers: buffers)
        }
        let s = try shape(context)
        let alpha = try context.float("alpha", 1), beta = try context.float("beta", 1)
        let activation = try FusedActivationSpec(context)
        let a = buffers.input(0), b = buffers.input(1), y = buffers.output(0)
        let c = buffers.optionalInput(2)
        let broadcast = context.hasInput(2) ? BiasBroadcast(shape: try context.input(2).shape, m: s.m, n: s.n) : nil
        // A per-row bias ([M] or [M,1]) goes through the epilogue; other C shapes are written into Y first.
        let rowBias = broadcast == .perRow && beta == 1 ? c : nil
        let preload = c != nil && rowBias == nil && beta != 0
        let epilogue = GemmEpilogue(bias: rowBias, activation: activation, pool: buffers.pool)
        let lda = s.transA ? s.m : s.k, ldb = s.transB ? s.k : s.n
        let sgemm = ParallelSgemm(pool: buffers.pool, transA: s.transA, transB: s.transB, epilogue: epilogue)
        // A classifier on one image is a matrix-vector product; OpenBLAS's sgemm with M = 1 runs at a fraction
        // of sgemv's memory bandwidth (measured 2 vs ~10 GFLOP/s on MobileNetV2's 1280×1000).
        // y = op(B)ᵀ·a: B is [N, K] with transB, else [K, N]; with one row, A is contiguous either way.
        let sgemv = ParallelSgemv(pool: buffers.pool, rowsAreOutputs: s.transB)
        return {
            if preload, let c, let broadcast { broadcast.fill(y, from: c, m: s.m, n: s.n, scale: beta) }
            if s.m == 1 {
                sgemv.run(outputs: s.n, inputs: s.k, alpha: alpha, a: b, lda: ldb, x: a, beta: preload ? 1 : 0, y: y)
                epilogue.apply(y, rows: 1, columns: s.n)
            } else {
                sgemm.run(m: s.m, n: s.n, k: s.k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: preload ? 1 : 0,
                          c: y, ldc: s.n)
            }
        }
    }
}

/// How Gemm's C operand broadcasts to [M, N].
enum BiasBroadcast: Equatable {
    case scalar, perColumn, perRow, full

    init?(shape: [Int], m: Int, n: Int) {
        if shape.reduce(1, *) == 1 { self = .scalar }
        else if shape == [n] || shape == [1, n] { self = .perColumn }
        else if shape == [m, 1] { self = .perRow }
        else if shape == [m, n] { self = .full }
        else { return nil }
    }

    func fill(_ y: UnsafeMutablePointer<Float>, from c: UnsafePointer<Float>, m: Int, n: Int, scale: Float) {
        for i in 0..<m {
            let row = y + i * n
            switch self {
            case .scalar: for j in 0..<n { row[j] = scale * c[0] }
            case .perColumn: for j in 0..<n { row[j] = scale * c[j] }
            case .perRow: for j in 0..<n { row[j] = scale * c[i] }
            case .full: for j in 0..<n { row[j] = scale * c[i * n + j] }
            }
        }
    }
}
