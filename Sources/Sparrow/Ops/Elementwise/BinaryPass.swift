/// One broadcast binary pass over fixed buffers: `out = F(a, b)` with `a` and `b` broadcast to `output`.
struct BinaryPass<F: BinaryElementFunction> {
    private let layout: BroadcastLayout
    private let partition: ElementPartition
    private let a: UnsafePointer<Float>
    private let b: UnsafePointer<Float>
    private let out: UnsafeMutablePointer<Float>
    private let aStride: Int
    private let bStride: Int

    init(output: [Int], aShape: [Int], bShape: [Int], a: UnsafePointer<Float>, b: UnsafePointer<Float>,
         out: UnsafeMutablePointer<Float>, threadCount: Int) {
        layout = BroadcastLayout(output: output, operands: [aShape, bShape])
        partition = ElementPartition(rows: layout.rows, inner: layout.inner, threadCount: threadCount)
        self.a = a
        self.b = b
        self.out = out
        aStride = layout.innerStrides[0]
        bStride = layout.innerStrides[1]
    }

    func run(_ pool: ThreadPool) {
        if layout.count == 0 { return }
        partition.run(pool) { row, start, end in
            BinaryLoops.run(F.self, a + layout.offset(row: row, operand: 0) + start * aStride, aStride,
                            b + layout.offset(row: row, operand: 1) + start * bStride, bStride,
                            out + row * layout.inner + start, end - start)
        }
    }
}
