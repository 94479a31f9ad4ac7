/// Sparrow ChannelShuffle (attribute `group` = g): ShuffleNet's Reshape `[N, g, C/g, …]` → Transpose
/// `[0, 2, 1, …]` → Reshape as one copy of whole channel planes: `out[:, j·g + i] = in[:, i·(C/g) + j]`.
struct ChannelShuffleOperator: Operator {
    static func infer(_ context: OpContext) throws -> [TensorType] {
        let input = try context.input(0)
        guard input.shape.count >= 2 else { throw context.fail("ChannelShuffle needs rank ≥ 2, got \(input.shape)") }
        _ = try ShapeArithmetic.count(input.shape, context)
        let groups = try context.int("group", 1)
        guard groups > 0, input.shape[1] % groups == 0 else {
            throw context.fail("group \(groups) does not divide \(input.shape[1]) channels")
        }
        return [input]
    }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? { try HostEvaluation.run(self, context) }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        let input = try context.input(0)
        let groups = try context.int("group", 1)
        let channels = input.shape[1]
        let perGroup = channels / groups
        let planeBytes = ShapeArithmetic.product(input.shape, 2..<input.shape.count) * input.dtype.size
        let rowBytes = channels * planeBytes
        var blocks: [RowBlockCopy.Block] = []
        for j in 0..<perGroup {
            for i in 0..<groups {
                blocks.append(RowBlockCopy.Block(
                    source: buffers.inputs[0]! + (i * perGroup + j) * planeBytes, sourceRowStride: rowBytes,
                    destination: buffers.outputs[0] + (j * groups + i) * planeBytes, destinationRowStride: rowBytes,
                    bytes: planeBytes))
            }
        }
        let copy = RowBlockCopy(rows: input.shape[0], blocks: blocks, threadCount: buffers.pool.threadCount)
        let pool = buffers.pool
        let loop = copy.loop(pool: pool)
        return { loop.run() }
    }
}
