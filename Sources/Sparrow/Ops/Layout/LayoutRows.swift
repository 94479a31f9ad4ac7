/// Splits a copy over rows across the session's threads when it is big enough to pay for waking them.
enum LayoutRows {
    /// Below this many bytes one thread copies faster than waking the pool (measured order: a few µs per wake).
    static let parallelBytes = 1 << 17

    /// A loop calling `body` with disjoint row ranges covering `0..<rows`, in parallel when the pool has threads
    /// and the work is large.
    static func loop(_ rows: Int, bytesPerRow: Int, pool: ThreadPool,
                     _ body: @escaping (Range<Int>) -> Void) -> ParallelLoop {
        guard rows > 0 else { return ParallelLoop(pool: pool, count: 0) { _ in } }
        let (total, overflow) = rows.multipliedReportingOverflow(by: max(bytesPerRow, 1))
        guard pool.threadCount > 1, rows > 1, overflow || total >= parallelBytes else {
            return ParallelLoop(pool: pool, count: 1) { _ in body(0..<rows) }
        }
        // A few chunks per thread even out uneven rows without much scheduling overhead.
        let chunks = min(rows, pool.threadCount * 4)
        return ParallelLoop(pool: pool, count: chunks) { chunk in
            let start = rows / chunks * chunk + min(chunk, rows % chunks)
            let end = start + rows / chunks + (chunk < rows % chunks ? 1 : 0)
            if start < end { body(start..<end) }
        }
    }
}
