/// Splits a copy over rows across the session's threads when it is big enough to pay for waking them.
enum LayoutRows {
    /// Below this many bytes one thread copies faster than waking the pool (measured order: a few µs per wake).
    static let parallelBytes = 1 << 17

    /// Calls `body` with disjoint row ranges covering `0..<rows`, in parallel when the pool has threads and the
    /// work is large.
    static func forEach(_ rows: Int, bytesPerRow: Int, pool: ThreadPool, _ body: (Range<Int>) -> Void) {
        guard rows > 0 else { return }
        let (total, overflow) = rows.multipliedReportingOverflow(by: max(bytesPerRow, 1))
        guard pool.threadCount > 1, rows > 1, overflow || total >= parallelBytes else {
            body(0..<rows)
            return
        }
        // A few chunks per thread even out uneven rows without much scheduling overhead.
        let chunks = min(rows, pool.threadCount * 4)
        pool.parallelFor(chunks) { chunk in
            let start = rows / chunks * chunk + min(chunk, rows % chunks)
            let end = start + rows / chunks + (chunk < rows % chunks ? 1 : 0)
            if start < end { body(start..<end) }
        }
    }
}
