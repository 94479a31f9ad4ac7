/// ONNX Slice (opset 13 inputs: data, starts, ends, axes, steps), with ONNX's clamping: negative starts/ends
/// count from the end; starts clamp to `[0, dim]` (`[0, dim-1]` for negative steps) and ends to `[0, dim]`
/// (`[-1, dim-1]` for negative steps).
struct SliceOperator: Operator {
    /// Per input axis: first index, step, and output length.
    struct AxisRange: Equatable {
        var start: Int
        var step: Int
        var count: Int
    }

    static func ranges(_ context: OpContext) throws -> [AxisRange] {
        let input = try context.input(0)
        let rank = input.shape.count
        _ = try ShapeArithmetic.count(input.shape, context)
        let starts = try ShapeArithmetic.integers(try context.value(1, "starts"), "starts", context)
        let ends = try ShapeArithmetic.integers(try context.value(2, "ends"), "ends", context)
        guard starts.count == ends.count else { throw context.fail("starts and ends differ in length") }
        var axes = Array(0..<starts.count)
        if context.hasInput(3) {
            axes = try ShapeArithmetic.integers(try context.value(3, "axes"), "axes", context)
            guard axes.count == starts.count else { throw context.fail("axes and starts differ in length") }
        }
        axes = try ShapeArithmetic.axes(axes, rank: rank, "axis", context)
        var steps = Array(repeating: 1, count: starts.count)
        if context.hasInput(4) {
            steps = try ShapeArithmetic.integers(try context.value(4, "steps"), "steps", context)
            guard steps.count == starts.count else { throw context.fail("steps and starts differ in length") }
        }
        var ranges = input.shape.map { AxisRange(start: 0, step: 1, count: $0) }
        for (i, axis) in axes.enumerated() {
            let dim = input.shape[axis]
            let step = steps[i]
            guard step != 0 else { throw context.fail("slice step is 0") }
            // Starts/ends may be ±INT64_MAX sentinels; adding a dimension to a negative value cannot overflow.
            var start = starts[i] < 0 ? starts[i] + dim : starts[i]
            var end = ends[i] < 0 ? ends[i] + dim : ends[i]
            let count: Int
            if step > 0 {
                start = min(max(start, 0), dim)
                end = min(max(end, 0), dim)
                count = end > start ? (end - start - 1) / step + 1 : 0
            } else {
                start = min(max(start, 0), dim - 1)
                end = min(max(end, -1), dim - 1)
                // Int.min as a step would overflow on negation; any step ≤ -dim gives at most one element.
                let stride = step == Int.min ? Int.max : -step
                count = start > end ? (start - end - 1) / stride + 1 : 0
            }
            ranges[axis] = AxisRange(start: count > 0 ? start : 0, step: step, count: count)
        }
        return ranges
    }

    static func infer(_ context: OpContext) throws -> [TensorType] {
        let input = try context.input(0)
        return [TensorType(input.dtype, try ranges(context).map(\.count))]
    }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? { try HostEvaluation.run(self, context) }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        let input = try context.input(0)
        let ranges = try ranges(context)
        let inputStrides = ShapeArithmetic.strides(input.shape)
        var offset = 0
        var strides: [Int] = []
        for (axis, range) in ranges.enumerated() {
            offset += range.start * inputStrides[axis]
            // With one element the step is irrelevant and may be huge; keep the product in range.
            strides.append(range.count > 1 ? range.step * inputStrides[axis] : 0)
        }
        let copy = StridedCopy(dims: ranges.map(\.count), strides: strides, offset: offset,
                               elementSize: input.dtype.size)
        let source = buffers.inputs[0]!
        let destination = buffers.outputs[0]
        let pool = buffers.pool
        let loop = copy.loop(input: source, output: destination, pool: pool)
        return { loop.run() }
    }
}
