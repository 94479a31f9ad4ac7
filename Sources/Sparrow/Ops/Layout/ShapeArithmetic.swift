/// Checked shape arithmetic shared by the layout and shape ops. Every size a model controls goes through here,
/// so that a hostile file yields `invalidGraph` instead of an overflow trap further down.
enum ShapeArithmetic {
    /// Largest element count of any tensor these ops produce. It leaves room for `count × 8` bytes and for the
    /// planner's own sums without overflow; far beyond what an arena can hold anyway.
    static let maxElements = 1 << 48

    /// Element count of `shape`. Throws when a dimension is negative or the product of the non-zero
    /// dimensions exceeds `maxElements`, so that the product of any sub-range of a checked shape is safe too.
    static func count(_ shape: [Int], _ context: OpContext) throws -> Int {
        var nonzeroProduct = 1
        var hasZero = false
        for dim in shape {
            guard dim >= 0 else { throw context.fail("negative dimension in shape \(shape)") }
            if dim == 0 {
                hasZero = true
                continue
            }
            let (product, overflow) = nonzeroProduct.multipliedReportingOverflow(by: dim)
            guard !overflow, product <= maxElements else { throw context.fail("shape \(shape) is too large") }
            nonzeroProduct = product
        }
        return hasZero ? 0 : nonzeroProduct
    }

    /// Product of `shape[range]` for a shape already accepted by `count`.
    static func product(_ shape: [Int], _ range: Range<Int>) -> Int {
        var total = 1
        for axis in range { total &*= shape[axis] }
        return total
    }

    /// Row-major element strides.
    static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in shape.indices.reversed() {
            strides[axis] = running
            running &*= shape[axis]
        }
        return strides
    }

    /// The elements of an integer tensor value (shape, axes, pads, …).
    static func integers(_ value: HostValue, _ what: String, _ context: OpContext) throws -> [Int] {
        guard value.dtype.isInteger else { throw context.fail("\(what) must be an integer tensor, got \(value.dtype)") }
        guard value.shape.count <= 1 else { throw context.fail("\(what) must be a scalar or 1-D, got shape \(value.shape)") }
        return value.ints.map { Int($0) }
    }

    /// Normalises `axes` against `rank` and rejects duplicates.
    static func axes(_ axes: [Int], rank: Int, _ what: String, _ context: OpContext) throws -> [Int] {
        var seen = [Bool](repeating: false, count: rank)
        var result: [Int] = []
        for axis in axes {
            let normalized = axis < 0 ? axis + rank : axis
            guard normalized >= 0, normalized < rank else { throw context.fail("\(what) \(axis) outside rank \(rank)") }
            guard !seen[normalized] else { throw context.fail("\(what) \(axis) repeats") }
            seen[normalized] = true
            result.append(normalized)
        }
        return result
    }

    /// Checks that every present input has the dtype of input 0 (data-movement ops never convert).
    static func requireSameDType(_ indices: [Int], _ context: OpContext) throws -> DType {
        let dtype = try context.input(indices[0]).dtype
        for index in indices.dropFirst() where context.hasInput(index) {
            let other = try context.input(index).dtype
            guard other == dtype else { throw context.fail("input \(index) is \(other), input \(indices[0]) is \(dtype)") }
        }
        return dtype
    }
}
