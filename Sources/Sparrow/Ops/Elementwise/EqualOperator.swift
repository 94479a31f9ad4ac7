/// Equal(A, B) → bool, with broadcasting. Integer and small known inputs are compared on the host at plan
/// time (masks in shape arithmetic); float32 tensors at run time.
struct EqualOperator: Operator {
    static func infer(_ context: OpContext) throws -> [TensorType] {
        guard context.inputs.count == 2 else { throw context.fail("Equal needs 2 inputs, got \(context.inputs.count)") }
        let types = try HostElementwise.sameTypeInputs(context)
        return [TensorType(.bool, try HostElementwise.broadcastShape(types, context))]
    }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? {
        let output = try infer(context)[0]
        guard context.allInputsKnown else { return nil }
        let a = try context.value(0, "A")
        let b = try context.value(1, "B")
        if a.dtype.isInteger {
            return [try HostElementwise.ints([a, b], shape: output.shape, dtype: .bool, context) { $0[0] == $0[1] ? 1 : 0 }]
        }
        let floats = HostElementwise.floats([a, b], shape: output.shape) { $0[0] == $0[1] ? 1 : 0 }
        return [HostValue(ints: floats.floats.map { Int64($0) }, shape: output.shape, dtype: .bool)]
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        try HostElementwise.requireFloatInputs(context)
        let output = outputs[0]
        let layout = BroadcastLayout(output: output.shape, operands: [try context.input(0).shape, try context.input(1).shape])
        let partition = ElementPartition(rows: layout.rows, inner: layout.inner, threadCount: buffers.pool.threadCount)
        let a = buffers.input(0)
        let b = buffers.input(1)
        let out = buffers.output(0, as: UInt8.self)
        let aStride = layout.innerStrides[0]
        let bStride = layout.innerStrides[1]
        if layout.count == 0 { return {} }
        let loop = partition.loop(buffers.pool) { row, start, end in
            let rowA = a + layout.offset(row: row, operand: 0)
            let rowB = b + layout.offset(row: row, operand: 1)
            let rowOut = out + row * layout.inner
            for i in start..<end { rowOut[i] = rowA[i * aStride] == rowB[i * bStride] ? 1 : 0 }
        }
        return { loop.run() }
    }
}
