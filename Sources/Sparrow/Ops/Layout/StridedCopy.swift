/// A copy whose source offset is affine in the output index: output element `m` (row-major over `dims`) is
/// input element `offset + Σ m[k]·strides[k]`. Slice (any steps), Expand (stride 0), Transpose and plain
/// copies are all this; axes that stay contiguous are merged first so that rows become long memcpys.
struct StridedCopy {
    /// Output dimensions after merging; at least one axis.
    private(set) var dims: [Int]
    /// Input element strides per output axis (negative for reversed slices, 0 for broadcast axes).
    private(set) var strides: [Int]
    let offset: Int
    let elementSize: Int
    let count: Int

    init(dims: [Int], strides: [Int], offset: Int, elementSize: Int) {
        self.offset = offset
        self.elementSize = elementSize
        count = dims.reduce(1, &*)
        var mergedDims: [Int] = []
        var mergedStrides: [Int] = []
        for (dim, stride) in zip(dims, strides) where dim != 1 {
            if let lastDim = mergedDims.last, let lastStride = mergedStrides.last, lastStride == stride &* dim {
                mergedDims[mergedDims.count - 1] = lastDim &* dim
                mergedStrides[mergedStrides.count - 1] = stride
            } else {
                mergedDims.append(dim)
                mergedStrides.append(stride)
            }
        }
        if count == 0 || mergedDims.isEmpty {
            mergedDims = [count == 0 ? 0 : 1]
            mergedStrides = [1]
        }
        self.dims = mergedDims
        self.strides = mergedStrides
    }

    /// Whether the copy is one contiguous block.
    var isContiguous: Bool { dims.count == 1 && strides[0] == 1 }

    /// If the merged copy is `out[b][c][r] = in[b][r][c]`, its `(batches, rows, cols)` of the input.
    var batchedTranspose: (batches: Int, rows: Int, cols: Int)? {
        if dims.count == 2, strides[1] == dims[0], strides[0] == 1 {
            return (1, dims[1], dims[0])
        }
        if dims.count == 3, strides[1] == 1, strides[2] == dims[1], strides[0] == dims[1] &* dims[2] {
            return (dims[0], dims[2], dims[1])
        }
        return nil
    }

    /// Copies from `input` to contiguous `output`, over rows of the last axis, split across `pool`.
    func loop(input: UnsafeRawPointer, output: UnsafeMutableRawPointer, pool: ThreadPool) -> ParallelLoop {
        if count == 0 { return ParallelLoop(pool: pool, count: 0) { _ in } }
        let rank = dims.count
        let cols = dims[rank - 1]
        let colStride = strides[rank - 1]
        let rowsPerPlane = rank >= 2 ? dims[rank - 2] : 1
        let rowStride = rank >= 2 ? strides[rank - 2] : 0
        let rows = count / cols
        let size = elementSize
        let rowBytes = cols * size
        return LayoutRows.loop(rows, bytesPerRow: rowBytes, pool: pool) { range in
            var row = range.lowerBound
            while row < range.upperBound {
                // Decompose once per plane; rows inside a plane advance by one stride.
                let plane = row / rowsPerPlane
                var y = row - plane * rowsPerPlane
                var planeOffset = offset
                var rest = plane
                var axis = rank - 3
                while axis >= 0 {
                    let index = rest % dims[axis]
                    rest /= dims[axis]
                    planeOffset &+= index &* strides[axis]
                    axis -= 1
                }
                while y < rowsPerPlane && row < range.upperBound {
                    let source = input + (planeOffset &+ y &* rowStride) &* size
                    ElementBytes.gather(output + row &* rowBytes, source, count: cols, stride: colStride, size: size)
                    y += 1
                    row += 1
                }
            }
        }
    }
}
