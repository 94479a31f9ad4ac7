/// Where(condition, X, Y) with three-way broadcasting. Known inputs are selected on the host at plan time
/// (any element type); otherwise X and Y must be float32 and the condition bool.
struct WhereOperator: Operator {
    static func infer(_ context: OpContext) throws -> [TensorType] {
        guard context.inputs.count == 3 else { throw context.fail("Where needs 3 inputs, got \(context.inputs.count)") }
        let condition = try context.input(0)
        let x = try context.input(1)
        let y = try context.input(2)
        guard condition.dtype == .bool else { throw context.fail("Where condition must be bool, got \(condition.dtype)") }
        guard x.dtype == y.dtype else { throw context.fail("Where mixes \(x.dtype) and \(y.dtype)") }
        return [TensorType(x.dtype, try HostElementwise.broadcastShape([condition, x, y], context))]
    }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? {
        let output = try infer(context)[0]
        guard context.allInputsKnown else { return nil }
        let values = try (0..<3).map { try context.value($0, "operand") }
        if output.dtype.isInteger {
            return [try HostElementwise.ints(values, shape: output.shape, dtype: output.dtype, context) {
                $0[0] != 0 ? $0[1] : $0[2]
            }]
        }
        return [HostElementwise.floats(values, shape: output.shape) { $0[0] != 0 ? $0[1] : $0[2] }]
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        try HostElementwise.requireFloatInputs(context, from: 1)
        let output = outputs[0]
        let shapes = try (0..<3).map { try context.input($0).shape }
        let layout = BroadcastLayout(output: output.shape, operands: shapes)
        let partition = ElementPartition(rows: layout.rows, inner: layout.inner, threadCount: buffers.pool.threadCount)
        let condition = buffers.input(0, as: UInt8.self)
        let x = buffers.input(1)
        let y = buffers.input(2)
        let out = buffers.output(0)
        let strides = (layout.innerStrides[0], layout.innerStrides[1], layout.innerStrides[2])
        if layout.count == 0 { return {} }
        let loop = partition.loop(buffers.pool) { row, start, end in
            let rowCondition = condition + layout.offset(row: row, operand: 0)
            let rowX = x + layout.offset(row: row, operand: 1)
            let rowY = y + layout.offset(row: row, operand: 2)
            let rowOut = out + row * layout.inner
            for i in start..<end {
                rowOut[i] = rowCondition[i * strides.0] != 0 ? rowX[i * strides.1] : rowY[i * strides.2]
            }
        }
        return { loop.run() }
    }
}
