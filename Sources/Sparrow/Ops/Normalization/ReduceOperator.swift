/// ReduceSum, ReduceMean, ReduceMax (opset 18 forms): `axes` is an optional int64 input known at plan
/// time (an `axes` attribute of older opsets is accepted too); `keepdims` (default 1) keeps reduced axes as
/// size 1; with no axes, everything is reduced unless `noop_with_empty_axes` = 1 makes the op an identity.
protocol ReduceOperator: Operator {
    static var kind: ReduceKind { get }
}

extension ReduceOperator {
    static func infer(_ context: OpContext) throws -> [TensorType] {
        let input = try context.input(0)
        let reduced = try reducedAxes(context, rank: input.shape.count)
        return [TensorType(input.dtype, outputShape(input.shape, reduced, keepDims: try context.int("keepdims", 1) != 0))]
    }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? {
        let input = try context.input(0)
        guard input.dtype.isInteger, input.dtype != .bool, let value = context.optionalValue(0) else { return nil }
        let output = try infer(context)[0]
        let reduced = try reducedAxes(context, rank: input.shape.count)
        let plan = ReducePlan(shape: input.shape, reduced: reduced)
        let elements = value.ints
        var result: [Int64]
        switch plan {
        case .copy: result = elements
        case .rows(let outer, let length):
            result = (0..<outer).map { combine(Array(elements[$0 * length..<($0 + 1) * length])) }
        case .slabs(let outer, let length, let inner):
            result = []
            for o in 0..<outer {
                for i in 0..<inner { result.append(combine((0..<length).map { elements[(o * length + $0) * inner + i] })) }
            }
        case .table(let kept, let reducedOffsets):
            result = kept.map { base in combine(reducedOffsets.map { elements[base + $0] }) }
        }
        return [HostValue(ints: result, shape: output.shape, dtype: output.dtype)]
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        let input = try context.input(0)
        guard input.dtype == .float32 else {
            throw context.unsupported("\(context.node.op.name) on \(input.dtype) runs only when its input is known at plan time")
        }
        let reduced = try reducedAxes(context, rank: input.shape.count)
        let reducedCount = zip(input.shape, reduced).reduce(1) { $0 * ($1.1 ? $1.0 : 1) }
        let kernel = ReduceKernel(plan: ReducePlan(shape: input.shape, reduced: reduced), kind: kind,
                                  reducedCount: reducedCount, input: buffers.input(0), output: buffers.output(0))
        let loop = kernel.loop(buffers.pool)
        return { loop.run() }
    }

    /// Integer reduction on the host (mean truncates toward zero).
    private static func combine(_ values: [Int64]) -> Int64 {
        switch kind {
        case .sum: return values.reduce(0, &+)
        case .mean: return values.isEmpty ? 0 : values.reduce(0, &+) / Int64(values.count)
        case .max: return values.max() ?? Int64.min
        }
    }

    /// Per axis, whether it is reduced.
    private static func reducedAxes(_ context: OpContext, rank: Int) throws -> [Bool] {
        var axes: [Int]
        if context.hasInput(1) {
            let value = try context.value(1, "axes")
            guard value.dtype.isInteger, value.shape.count <= 1 else { throw context.fail("axes must be a 1-D int tensor") }
            axes = value.ints.map { Int($0) }
        } else {
            axes = try context.ints("axes") ?? []
        }
        if axes.isEmpty {
            let noop = try context.int("noop_with_empty_axes", 0) != 0
            return [Bool](repeating: !noop, count: rank)
        }
        var reduced = [Bool](repeating: false, count: rank)
        for axis in axes {
            guard axis >= -rank, axis < rank else { throw context.fail("axis \(axis) outside rank \(rank)") }
            let normalized = axis < 0 ? axis + rank : axis
            guard !reduced[normalized] else { throw context.fail("axis \(axis) appears twice in axes \(axes)") }
            reduced[normalized] = true
        }
        return reduced
    }

    private static func outputShape(_ shape: [Int], _ reduced: [Bool], keepDims: Bool) -> [Int] {
        var result: [Int] = []
        for (dim, isReduced) in zip(shape, reduced) {
            if !isReduced { result.append(dim) } else if keepDims { result.append(1) }
        }
        return result
    }
}

/// ReduceSum: Σ over the axes.
enum ReduceSumOperator: ReduceOperator {
    static var kind: ReduceKind { .sum }
}

/// ReduceMean: Σ / count over the axes.
enum ReduceMeanOperator: ReduceOperator {
    static var kind: ReduceKind { .mean }
}

/// ReduceMax: maximum over the axes (−inf over an empty axis).
enum ReduceMaxOperator: ReduceOperator {
    static var kind: ReduceKind { .max }
}
