/// One unary pass over fixed buffers, split over the pool when large.
struct UnaryPass<F: UnaryElementFunction> {
    private let input: UnsafePointer<Float>
    private let output: UnsafeMutablePointer<Float>
    private let parameters: UnaryParameters
    private let partition: ElementPartition

    init(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, count: Int,
         parameters: UnaryParameters = UnaryParameters(), threadCount: Int) {
        self.input = input
        self.output = output
        self.parameters = parameters
        partition = ElementPartition(rows: 1, inner: count, threadCount: threadCount)
    }

    func run(_ pool: ThreadPool) {
        partition.run(pool) { _, start, end in
            UnaryLoops.run(F.self, input + start, output + start, end - start, parameters)
        }
    }
}
