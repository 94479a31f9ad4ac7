/// A copy that picks, independently per output axis, which input index each output index reads, or "fill"
/// (`-1`). Pad in every mode and nearest-neighbour Resize are this: an output element is the fill value when
/// any of its axes says so, else the input element at the chosen indices.
struct AxisTableGather {
    /// How one stretch of an output row's last axis is produced.
    enum Segment {
        case fill(start: Int, count: Int)
        /// `count` elements from consecutive input elements, starting at input element `source` of the row.
        case contiguous(start: Int, count: Int, source: Int)
        /// Elements read through the last-axis table one by one.
        case gather(start: Int, count: Int)
    }

    let outputDims: [Int]
    let elementSize: Int
    /// Per outer axis `k`, at `outerStarts[k] + i`: the input element offset for output index `i`, or -1.
    private let outerOffsets: [Int]
    private let outerStarts: [Int]
    /// Last axis: input element index for each output index (valid where the segments say `gather`).
    private let lastIndices: [Int]
    private let segments: [Segment]
    private let count: Int

    /// Contiguous stretches shorter than this are gathered element by element: a memcpy call costs more.
    private static let minimumRun = 8

    /// - Parameters:
    ///   - inputDims: shape of the input.
    ///   - tables: one table per axis, `tables[k][i]` = input index read by output index `i` along axis `k`,
    ///     or -1 for the fill value. Entries must be valid indices of `inputDims[k]`.
    init(inputDims: [Int], tables: [[Int]], elementSize: Int) {
        self.elementSize = elementSize
        let dims = tables.map(\.count)
        outputDims = dims
        count = dims.reduce(1, &*)
        let rank = dims.count
        let strides = ShapeArithmetic.strides(inputDims)
        var offsets: [Int] = []
        var starts: [Int] = []
        for axis in 0..<max(rank - 1, 0) {
            starts.append(offsets.count)
            offsets += tables[axis].map { $0 < 0 ? -1 : $0 * strides[axis] }
        }
        outerOffsets = offsets
        outerStarts = starts
        let last = rank > 0 ? tables[rank - 1] : [0]
        lastIndices = last
        segments = Self.segments(of: last)
    }

    private static func segments(of table: [Int]) -> [Segment] {
        var segments: [Segment] = []
        func appendGather(_ start: Int, _ count: Int) {
            if case .gather(let previousStart, let previousCount)? = segments.last, previousStart + previousCount == start {
                segments[segments.count - 1] = .gather(start: previousStart, count: previousCount + count)
            } else {
                segments.append(.gather(start: start, count: count))
            }
        }
        var i = 0
        while i < table.count {
            var j = i + 1
            if table[i] < 0 {
                while j < table.count && table[j] < 0 { j += 1 }
                segments.append(.fill(start: i, count: j - i))
            } else {
                while j < table.count && table[j] == table[j - 1] + 1 { j += 1 }
                if j - i >= minimumRun {
                    segments.append(.contiguous(start: i, count: j - i, source: table[i]))
                } else {
                    appendGather(i, j - i)
                }
            }
            i = j
        }
        return segments
    }

    /// The copy as a loop; `fill` holds the fill element's bytes (see `ElementBytes.pattern`), or `fillAt` points
    /// to the fill element, read when the loop runs (a value computed by an earlier node).
    func loop(input: UnsafeRawPointer, output: UnsafeMutableRawPointer, fill constantFill: UInt64,
              fillAt: UnsafeRawPointer? = nil, pool: ThreadPool) -> ParallelLoop {
        if count == 0 { return ParallelLoop(pool: pool, count: 0) { _ in } }
        let rank = outputDims.count
        let cols = rank > 0 ? outputDims[rank - 1] : 1
        let rows = count / cols
        let size = elementSize
        let rowBytes = cols * size
        return LayoutRows.loop(rows, bytesPerRow: rowBytes, pool: pool) { range in
            let fill = fillAt.map { ElementBytes.pattern(at: $0, size: size) } ?? constantFill
            lastIndices.withUnsafeBufferPointer { lastTable in
                let table = lastTable.baseAddress!
                // Nearest upsampling repeats source rows: copying the previous output row is cheaper.
                var previousSource = Int.min
                for row in range {
                    let destination = output + row * rowBytes
                    var source = 0
                    var rest = row
                    var axis = rank - 2
                    while axis >= 0 && source >= 0 {
                        let index = rest % outputDims[axis]
                        rest /= outputDims[axis]
                        let offset = outerOffsets[outerStarts[axis] + index]
                        source = offset < 0 ? -1 : source + offset
                        axis -= 1
                    }
                    if source == previousSource && row > range.lowerBound {
                        destination.copyMemory(from: destination - rowBytes, byteCount: rowBytes)
                        continue
                    }
                    previousSource = source
                    if source < 0 {
                        ElementBytes.fill(destination, count: cols, pattern: fill, size: size)
                        continue
                    }
                    let rowInput = input + source * size
                    // Index loop: iterating the array generically allocates in unoptimised builds.
                    for index in 0..<segments.count {
                        switch segments[index] {
                        case .fill(let start, let count):
                            ElementBytes.fill(destination + start * size, count: count, pattern: fill, size: size)
                        case .contiguous(let start, let count, let first):
                            (destination + start * size).copyMemory(from: rowInput + first * size, byteCount: count * size)
                        case .gather(let start, let count):
                            ElementBytes.gather(destination, rowInput, table: table, range: start..<(start + count),
                                                size: size)
                        }
                    }
                }
            }
        }
    }
}
