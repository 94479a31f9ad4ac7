/// GlobalAveragePool and GlobalMaxPool: one value per (n, c) plane over all spatial axes (any rank ≥ 3).
struct GlobalPoolKernel {
    let planes: Int
    let planeSize: Int
    let isMax: Bool
    let input: UnsafePointer<Float>
    let output: UnsafeMutablePointer<Float>

    static func infer(_ context: OpContext) throws -> [TensorType] {
        let input = try context.input(0)
        guard input.shape.count >= 3 else {
            throw context.fail("\(context.node.op.name) needs an N×C×spatial input, got \(input.shape)")
        }
        return [TensorType(input.dtype, [input.shape[0], input.shape[1]] + Array(repeating: 1, count: input.shape.count - 2))]
    }

    init(_ context: OpContext, buffers: OpBuffers, isMax: Bool) throws {
        try HostElementwise.requireFloatInputs(context)
        let shape = try context.input(0).shape
        planes = shape[0] * shape[1]
        planeSize = shape.dropFirst(2).reduce(1, *)
        self.isMax = isMax
        input = buffers.input(0)
        output = buffers.output(0)
    }

    func run(planes range: Range<Int>) {
        for plane in range {
            let source = input + plane * planeSize
            output[plane] = isMax ? RowReduction.maximum(source, planeSize)
                                  : RowReduction.sum(source, planeSize) / Float(planeSize)
        }
    }

    func loop(_ pool: ThreadPool) -> ParallelLoop {
        ElementPartition.rowRangeLoop(pool, rows: planes, rowCost: planeSize) { run(planes: $0) }
    }
}
