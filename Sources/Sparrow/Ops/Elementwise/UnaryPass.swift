/// One unary pass over fixed buffers, split over the pool when large.
struct UnaryPass<F: UnaryElementFunction> {
    private let loop: ParallelLoop

    init(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, count: Int,
         parameters: UnaryParameters = UnaryParameters(), pool: ThreadPool) {
        let partition = ElementPartition(rows: 1, inner: count, threadCount: pool.threadCount)
        loop = partition.loop(pool) { _, start, end in
            UnaryLoops.run(F.self, input + start, output + start, end - start, parameters)
        }
    }

    func run() { loop.run() }
}
