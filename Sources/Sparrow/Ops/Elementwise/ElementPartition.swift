/// Splits `rows × inner` elements into chunks for the session's thread pool. Work is only split when the
/// pool has more than one thread and each chunk gets at least `minimumChunk` elements: below that, waking a
/// worker costs more than the loop. Long rows are cut into pieces (multiples of 16 elements, so that vector
/// loops stay aligned to their width), many short rows are grouped.
struct ElementPartition {
    /// Fewest elements worth handing to another thread.
    static let minimumChunk = 16_384

    let rows: Int
    let inner: Int
    /// Rows per chunk when rows are grouped (`piecesPerRow == 1`).
    private let rowsPerChunk: Int
    /// Pieces each row is cut into (1 when rows are grouped).
    private let piecesPerRow: Int
    private let pieceLength: Int
    /// Work items handed to `parallelFor`; 1 means run inline.
    let chunkCount: Int

    init(rows: Int, inner: Int, threadCount: Int, minimumChunk: Int = ElementPartition.minimumChunk) {
        self.rows = rows
        self.inner = inner
        let total = rows * inner
        let wanted = threadCount > 1 ? min(total / max(minimumChunk, 1), threadCount * 4) : 1
        if wanted <= 1 || rows == 0 || inner == 0 {
            rowsPerChunk = max(rows, 1)
            piecesPerRow = 1
            pieceLength = inner
            chunkCount = 1
        } else if rows >= wanted {
            rowsPerChunk = (rows + wanted - 1) / wanted
            piecesPerRow = 1
            pieceLength = inner
            chunkCount = (rows + rowsPerChunk - 1) / rowsPerChunk
        } else {
            let pieces = (wanted + rows - 1) / rows
            let length = ((inner + pieces - 1) / pieces + 15) & ~15
            rowsPerChunk = 1
            pieceLength = length
            piecesPerRow = (inner + length - 1) / length
            chunkCount = rows * piecesPerRow
        }
    }

    /// A loop calling `body(row, start, end)` for every row and element range `start..<end` of it, once each.
    func loop(_ pool: ThreadPool, _ body: @escaping (_ row: Int, _ start: Int, _ end: Int) -> Void) -> ParallelLoop {
        let rows = rows, inner = inner
        if chunkCount <= 1 {
            return ParallelLoop(pool: pool, count: 1) { _ in
                var row = 0
                while row < rows {
                    body(row, 0, inner)
                    row += 1
                }
            }
        }
        let rowsPerChunk = rowsPerChunk, piecesPerRow = piecesPerRow, pieceLength = pieceLength
        return ParallelLoop(pool: pool, count: chunkCount) { chunk in
            if piecesPerRow == 1 {
                var row = chunk * rowsPerChunk
                let last = min(row + rowsPerChunk, rows)
                while row < last {
                    body(row, 0, inner)
                    row += 1
                }
            } else {
                let row = chunk / piecesPerRow
                let start = (chunk % piecesPerRow) * pieceLength
                body(row, start, min(start + pieceLength, inner))
            }
        }
    }
}

extension ElementPartition {
    /// A loop calling `body(range)` over `0..<rows` split into row ranges, in parallel when the pool has
    /// threads and `rows × rowCost` elements are worth it. For kernels whose rows cannot be cut (a softmax
    /// row, a pooled plane).
    static func rowRangeLoop(_ pool: ThreadPool, rows: Int, rowCost: Int,
                             _ body: @escaping (Range<Int>) -> Void) -> ParallelLoop {
        let chunks = pool.threadCount > 1 && rows * rowCost >= 2 * minimumChunk ? min(rows, pool.threadCount * 4) : 1
        if chunks <= 1 { return ParallelLoop(pool: pool, count: 1) { _ in body(0..<rows) } }
        let perChunk = (rows + chunks - 1) / chunks
        return ParallelLoop(pool: pool, count: chunks) { chunk in
            let start = chunk * perChunk
            if start < rows { body(start..<min(start + perChunk, rows)) }
        }
    }
}
