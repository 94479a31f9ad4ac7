/// One broadcast binary pass over fixed buffers: `out = F(a, b)` with `a` and `b` broadcast to `output`.
struct BinaryPass<F: BinaryElementFunction> {
    private let loop: ParallelLoop

    init(output: [Int], aShape: [Int], bShape: [Int], a: UnsafePointer<Float>, b: UnsafePointer<Float>,
         out: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let layout = BroadcastLayout(output: output, operands: [aShape, bShape])
        let partition = ElementPartition(rows: layout.rows, inner: layout.inner, threadCount: pool.threadCount)
        let aStride = layout.innerStrides[0]
        let bStride = layout.innerStrides[1]
        if layout.count == 0 {
            loop = ParallelLoop(pool: pool, count: 0) { _ in }
            return
        }
        loop = partition.loop(pool) { row, start, end in
            BinaryLoops.run(F.self, a + layout.offset(row: row, operand: 0) + start * aStride, aStride,
                            b + layout.offset(row: row, operand: 1) + start * bStride, bStride,
                            out + row * layout.inner + start, end - start)
        }
    }

    func run() { loop.run() }
}
