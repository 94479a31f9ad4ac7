/// NumPy (multidirectional) broadcasting as ONNX defines it: result shapes, and the loop structure an
/// elementwise kernel walks.
enum Broadcast {
    /// The shape all of `shapes` broadcast to, or `nil` when two of them disagree on an axis that is not 1.
    static func shape(_ shapes: [[Int]]) -> [Int]? {
        let rank = shapes.map(\.count).max() ?? 0
        var result = [Int](repeating: 1, count: rank)
        for shape in shapes {
            let offset = rank - shape.count
            for (axis, dim) in shape.enumerated() {
                let current = result[offset + axis]
                if dim == current || dim == 1 { continue }
                guard current == 1 else { return nil }
                result[offset + axis] = dim
            }
        }
        return result
    }

    /// Whether `shape` broadcasts to exactly `target` (unidirectional broadcasting, as PRelu's slope needs).
    static func broadcasts(_ shape: [Int], to target: [Int]) -> Bool {
        guard shape.count <= target.count else { return false }
        let offset = target.count - shape.count
        for (axis, dim) in shape.enumerated() where dim != 1 && dim != target[offset + axis] { return false }
        return true
    }

    /// For every element of `output` (row-major), the index of the element of an operand of shape `shape` it
    /// reads. Host evaluation only (plan time, small values): it allocates.
    static func sourceIndices(of shape: [Int], in output: [Int]) -> [Int] {
        let count = output.reduce(1, *)
        let offset = output.count - shape.count
        var strides = [Int](repeating: 0, count: output.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[offset + axis] = shape[axis] == 1 ? 0 : running
            running *= shape[axis]
        }
        var indices = [Int](repeating: 0, count: count)
        for linear in 0..<count {
            var rest = linear
            var source = 0
            for axis in stride(from: output.count - 1, through: 0, by: -1) {
                source += (rest % output[axis]) * strides[axis]
                rest /= output[axis]
            }
            indices[linear] = source
        }
        return indices
    }
}

/// How an elementwise kernel walks an output and the operands broadcast into it: the output is seen as
/// `rows × inner` elements, where `inner` is the last axis left after dropping size-1 axes and merging
/// neighbouring axes that every operand treats alike (all present or all broadcast). Each operand reads its
/// inner run with stride 1 (present) or 0 (a splat), from a per-row offset.
///
/// The common cases need no general index arithmetic per row: same shapes collapse to one row (a flat loop),
/// a scalar operand to one row with a splat, and a per-channel operand `[1, C, 1, 1]` against `[N, C, H, W]`
/// to `N·C` rows of `H·W` whose splat value is element `row % C`. Other shapes fall back to decomposing the
/// row index over the collapsed outer axes (an odometer recomputed per row, not per element).
struct BroadcastLayout {
    /// Number of inner runs.
    let rows: Int
    /// Length of each inner run (1 when every axis collapsed away).
    let inner: Int
    /// Per operand: 1 when it reads its inner run contiguously, 0 when it repeats one element.
    let innerStrides: [Int]
    /// Collapsed outer axes, innermost first.
    private let outerDims: [Int]
    /// Per operand, element strides over `outerDims` (0 on broadcast axes).
    private let outerStrides: [[Int]]
    /// Per operand: offset = (row % period) · periodStride, when its outer strides allow it; else `nil`.
    private let periodic: [(period: Int, stride: Int)?]

    /// Total output elements.
    var count: Int { rows * inner }

    /// - Parameters:
    ///   - output: the broadcast result shape (every operand must broadcast to it).
    ///   - operands: the operand shapes, in the order `offset(row:operand:)` refers to them.
    init(output: [Int], operands: [[Int]]) {
        let rank = output.count
        let padded = operands.map { [Int](repeating: 1, count: rank - $0.count) + $0 }
        // Collapse outermost-first; a flag per operand says whether it is present (true) or broadcast.
        var dims: [Int] = []
        var flags: [[Bool]] = []
        for axis in 0..<rank where output[axis] != 1 {
            let present = padded.map { $0[axis] != 1 }
            if let last = flags.last, last == present {
                dims[dims.count - 1] *= output[axis]
            } else {
                dims.append(output[axis])
                flags.append(present)
            }
        }
        // Element strides of each operand over the collapsed axes, innermost first.
        var strides = [[Int]](repeating: [], count: operands.count)
        for operand in operands.indices {
            var running = 1
            for axis in stride(from: dims.count - 1, through: 0, by: -1) {
                if flags[axis][operand] {
                    strides[operand].append(running)
                    running *= dims[axis]
                } else {
                    strides[operand].append(0)
                }
            }
        }
        let innermostFirst = Array(dims.reversed())
        inner = innermostFirst.first ?? 1
        innerStrides = strides.map { $0.first ?? 0 }
        outerDims = Array(innermostFirst.dropFirst())
        outerStrides = strides.map { Array($0.dropFirst()) }
        rows = outerDims.reduce(1, *)
        periodic = outerStrides.map { BroadcastLayout.periodicForm(strides: $0, dims: innermostFirst.dropFirst()) }
    }

    /// An operand whose present outer axes are the innermost ones and contiguous reads row `r` at
    /// `(r % period) · stride`: true of same-shape, scalar and per-channel operands.
    private static func periodicForm(strides: [Int], dims: ArraySlice<Int>) -> (period: Int, stride: Int)? {
        let dims = Array(dims)
        var period = 1
        var axis = 0
        let base = strides.first ?? 0
        while axis < strides.count, strides[axis] != 0, strides[axis] == base * period {
            period *= dims[axis]
            axis += 1
        }
        for rest in axis..<strides.count where strides[rest] != 0 { return nil }
        return (period, base)
    }

    /// Element offset of the start of row `row` in operand `operand`.
    @inline(__always)
    func offset(row: Int, operand: Int) -> Int {
        if let form = periodic[operand] { return (row % form.period) * form.stride }
        var rest = row
        var offset = 0
        let strides = outerStrides[operand]
        for axis in outerDims.indices {
            offset += (rest % outerDims[axis]) * strides[axis]
            rest /= outerDims[axis]
        }
        return offset
    }
}
