/// Which elements a Reduce op combines, resolved from the input shape and the reduced axes. After dropping
/// size-1 axes and merging neighbours that are both kept or both reduced, the common cases are
/// `[kept, reduced]` (contiguous rows, e.g. a spatial mean) and `[kept, reduced, kept]` (slabs folded into
/// a contiguous output row, e.g. a channel sum); anything else uses offset tables.
enum ReducePlan {
    /// Nothing is reduced (all reduced axes have size 1): the output is a copy.
    case copy(count: Int)
    /// `outer` rows of `length` contiguous elements, one output each.
    case rows(outer: Int, length: Int)
    /// `outer` slabs of `length × inner`: output `[o, i]` combines `input[o, r, i]` over r.
    case slabs(outer: Int, length: Int, inner: Int)
    /// Output `o` combines `input[keptOffsets[o] + reducedOffsets[j]]` over j.
    case table(keptOffsets: [Int], reducedOffsets: [Int])

    /// - Parameters:
    ///   - shape: the input shape.
    ///   - reduced: per axis, whether it is reduced.
    init(shape: [Int], reduced: [Bool]) {
        var dims: [Int] = []
        var flags: [Bool] = []
        for (axis, dim) in shape.enumerated() where dim != 1 {
            if let last = flags.last, last == reduced[axis] {
                dims[dims.count - 1] *= dim
            } else {
                dims.append(dim)
                flags.append(reduced[axis])
            }
        }
        let count = shape.reduce(1, *)
        switch flags {
        case [], [false]: self = .copy(count: count)
        case [true]: self = .rows(outer: 1, length: dims[0])
        case [false, true]: self = .rows(outer: dims[0], length: dims[1])
        case [true, false]: self = .slabs(outer: 1, length: dims[0], inner: dims[1])
        case [false, true, false]: self = .slabs(outer: dims[0], length: dims[1], inner: dims[2])
        default: self = ReducePlan.tables(dims: dims, flags: flags)
        }
    }

    private static func tables(dims: [Int], flags: [Bool]) -> ReducePlan {
        var strides = [Int](repeating: 1, count: dims.count)
        for axis in stride(from: dims.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * dims[axis + 1] }
        func offsets(_ wanted: Bool) -> [Int] {
            let axes = dims.indices.filter { flags[$0] == wanted }
            var result = [0]
            for axis in axes {
                var next: [Int] = []
                next.reserveCapacity(result.count * dims[axis])
                for base in result {
                    for index in 0..<dims[axis] { next.append(base + index * strides[axis]) }
                }
                result = next
            }
            return result
        }
        return .table(keptOffsets: offsets(false), reducedOffsets: offsets(true))
    }
}
