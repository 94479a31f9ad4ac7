/// `out[b][c][r] = in[b][r][c]` in square tiles, so that both the reads and the writes of a tile stay in cache
/// (a row-by-row strided gather touches a new cache line per element once the input row exceeds L1).
struct TiledTranspose {
    let batches: Int
    let rows: Int
    let cols: Int
    let elementSize: Int

    /// 32 elements: a tile of 4-byte elements reads 32 lines of 128 bytes, well inside L1.
    static let tile = 32

    func loop(input: UnsafeRawPointer, output: UnsafeMutableRawPointer, pool: ThreadPool) -> ParallelLoop {
        let tile = Self.tile
        let colTiles = (cols + tile - 1) / tile
        let units = batches * colTiles
        let bytesPerUnit = tile * rows * elementSize
        return LayoutRows.loop(units, bytesPerRow: bytesPerUnit, pool: pool) { range in
            for unit in range {
                let batch = unit / colTiles
                let c0 = (unit - batch * colTiles) * tile
                let c1 = min(c0 + tile, cols)
                let base = batch * rows * cols
                switch elementSize {
                case 4: block(UInt32.self, input, output, base: base, c0: c0, c1: c1)
                case 2: block(UInt16.self, input, output, base: base, c0: c0, c1: c1)
                case 8: block(UInt64.self, input, output, base: base, c0: c0, c1: c1)
                default: block(UInt8.self, input, output, base: base, c0: c0, c1: c1)
                }
            }
        }
    }

    @inline(__always)
    private func block<T>(_: T.Type, _ input: UnsafeRawPointer, _ output: UnsafeMutableRawPointer, base: Int,
                          c0: Int, c1: Int) {
        let source = input.assumingMemoryBound(to: T.self) + base
        let destination = output.assumingMemoryBound(to: T.self) + base
        var r0 = 0
        while r0 < rows {
            let r1 = min(r0 + Self.tile, rows)
            for c in c0..<c1 {
                let outRow = destination + c * rows
                for r in r0..<r1 { outRow[r] = source[r * cols + c] }
            }
            r0 = r1
        }
    }
}
