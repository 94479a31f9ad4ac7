/// A loop over `0..<count` whose body is built once, at plan time, and run by a kernel on every inference.
/// Running it allocates nothing: the pool receives the stored closure by reference. Kernels whose loop
/// bounds change from call to call keep those bounds in a small state object that the body reads.
final class ParallelLoop {
    let count: Int
    private let pool: ThreadPool
    private let body: (Int) -> Void

    init(pool: ThreadPool, count: Int, body: @escaping (Int) -> Void) {
        self.pool = pool
        self.count = count
        self.body = body
    }

    func run() {
        if count <= 0 { return }
        if count == 1 {
            body(0)
        } else {
            pool.parallelFor(count, body)
        }
    }
}
