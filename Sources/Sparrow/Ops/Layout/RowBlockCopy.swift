/// Copies a fixed list of byte blocks once per row: Concat (each input's slab into its place in the output
/// row), Split (the reverse), ChannelShuffle (channel planes to their new places) and plain copies.
struct RowBlockCopy {
    /// One block: `bytes` from `source + row·sourceRowStride` to `destination + row·destinationRowStride`.
    struct Block {
        var source: UnsafeRawPointer
        var sourceRowStride: Int
        var destination: UnsafeMutableRawPointer
        var destinationRowStride: Int
        var bytes: Int
    }

    let rows: Int
    let blocks: [Block]
    let rowBytes: Int
    /// Each block is cut into this many pieces, so that few rows of large blocks still spread over threads.
    let pieces: Int

    init(rows: Int, blocks: [Block], threadCount: Int) {
        self.rows = rows
        self.blocks = blocks.filter { $0.bytes > 0 }
        let rowBytes = self.blocks.reduce(0) { $0 &+ $1.bytes }
        self.rowBytes = rowBytes
        // Pieces of at least 64 KiB: smaller memcpys lose more to bookkeeping than threads gain.
        let wanted = rows >= threadCount * 4 ? 1 : (threadCount * 4 + rows - 1) / max(rows, 1)
        pieces = max(1, min(wanted, rowBytes / (1 << 16)))
    }

    /// A single contiguous copy of `bytes` (Reshape, Identity, Squeeze, …).
    init(copying bytes: Int, from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer, threadCount: Int) {
        self.init(rows: 1, blocks: [Block(source: source, sourceRowStride: 0, destination: destination,
                                          destinationRowStride: 0, bytes: bytes)], threadCount: threadCount)
    }

    /// Index loops only: generic iteration allocates in unoptimised builds, and kernels must never allocate.
    func loop(pool: ThreadPool) -> ParallelLoop {
        let pieces = self.pieces
        let blocks = self.blocks
        return LayoutRows.loop(rows * pieces, bytesPerRow: rowBytes / pieces, pool: pool) { range in
            for unit in range.lowerBound..<range.upperBound {
                let row = unit / pieces
                let piece = unit - row * pieces
                for index in 0..<blocks.count {
                    let block = blocks[index]
                    let start = block.bytes / pieces * piece + min(piece, block.bytes % pieces)
                    let length = block.bytes / pieces + (piece < block.bytes % pieces ? 1 : 0)
                    let source = block.source + (row &* block.sourceRowStride &+ start)
                    let destination = block.destination + (row &* block.destinationRowStride &+ start)
                    if source != UnsafeRawPointer(destination) {
                        destination.copyMemory(from: source, byteCount: length)
                    }
                }
            }
        }
    }
}
