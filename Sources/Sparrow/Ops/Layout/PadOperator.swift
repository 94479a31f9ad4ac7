/// ONNX Pad (opset 18/21 inputs: data, pads, constant_value, axes; modes constant, reflect, edge, wrap).
/// Negative pads crop. Every mode is an `AxisTableGather`: each output index along an axis reads one input
/// index, or the constant.
struct PadOperator: Operator {
    enum Mode: String {
        case constant, reflect, edge, wrap
    }

    /// Per input axis: elements added before and after (negative: removed).
    static func pads(_ context: OpContext) throws -> [(before: Int, after: Int)] {
        let input = try context.input(0)
        let rank = input.shape.count
        let values = try ShapeArithmetic.integers(try context.value(1, "pads"), "pads", context)
        var axes = Array(0..<rank)
        if context.hasInput(3) {
            let listed = try ShapeArithmetic.integers(try context.value(3, "axes"), "axes", context)
            axes = try ShapeArithmetic.axes(listed, rank: rank, "axis", context)
        }
        guard values.count == 2 * axes.count else {
            throw context.fail("pads has \(values.count) values for \(axes.count) axes")
        }
        var pads = Array(repeating: (before: 0, after: 0), count: rank)
        for (i, axis) in axes.enumerated() {
            // A pad beyond the element limit could never be allocated; rejecting it keeps the sums below exact.
            let limit = ShapeArithmetic.maxElements
            for value in [values[i], values[i + axes.count]] where value < -limit || value > limit {
                throw context.fail("pad \(value) is too large")
            }
            pads[axis] = (values[i], values[i + axes.count])
        }
        return pads
    }

    static func mode(_ context: OpContext) throws -> Mode {
        let name = try context.string("mode", "constant")
        guard let mode = Mode(rawValue: name) else { throw context.fail("unknown pad mode '\(name)'") }
        return mode
    }

    static func infer(_ context: OpContext) throws -> [TensorType] {
        let input = try context.input(0)
        _ = try ShapeArithmetic.count(input.shape, context)
        let mode = try mode(context)
        if context.hasInput(2) {
            let constant = try context.input(2)
            guard constant.dtype == input.dtype, constant.count <= 1 else {
                throw context.fail("constant_value must be one \(input.dtype) element, got \(constant)")
            }
        }
        var shape: [Int] = []
        for (axis, pad) in try pads(context).enumerated() {
            let dim = input.shape[axis]
            let length = dim + pad.before + pad.after
            guard length >= 0 else { throw context.fail("pads crop axis \(axis) of \(dim) below zero") }
            if mode != .constant, dim == 0, length > 0 {
                throw context.fail("\(mode.rawValue) padding of an empty axis \(axis)")
            }
            shape.append(length)
        }
        _ = try ShapeArithmetic.count(shape, context)
        return [TensorType(input.dtype, shape)]
    }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? { try HostEvaluation.run(self, context) }

    /// Input index read by output index `o` along an axis of length `dim`, or -1 for the constant.
    static func sourceIndex(_ o: Int, before: Int, dim: Int, mode: Mode) -> Int {
        let i = o - before
        if i >= 0 && i < dim { return i }
        switch mode {
        case .constant:
            return -1
        case .edge:
            return i < 0 ? 0 : dim - 1
        case .wrap:
            let r = i % dim
            return r < 0 ? r + dim : r
        case .reflect:
            // Reflection without repeating the edge has period 2·(dim-1), as numpy's 'reflect'.
            if dim == 1 { return 0 }
            let period = 2 * (dim - 1)
            var r = i % period
            if r < 0 { r += period }
            return r < dim ? r : period - r
        }
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        let input = try context.input(0)
        let mode = try mode(context)
        let pads = try pads(context)
        let tables = pads.enumerated().map { axis, pad in
            (0..<outputs[0].shape[axis]).map {
                sourceIndex($0, before: pad.before, dim: input.shape[axis], mode: mode)
            }
        }
        let gather = AxisTableGather(inputDims: input.shape, tables: tables, elementSize: input.dtype.size)
        let source = buffers.inputs[0]!
        let destination = buffers.outputs[0]
        let pool = buffers.pool
        // The constant is read when the kernel runs: it may be computed by an earlier node.
        let hasConstant = try context.hasInput(2) && context.input(2).count == 1
        let constant = hasConstant ? buffers.inputs[2] : nil
        let loop = gather.loop(input: source, output: destination, fill: 0, fillAt: constant, pool: pool)
        return { loop.run() }
    }
}
