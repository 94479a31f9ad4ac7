/// Runs a data-movement kernel on known input values at plan time, so that shape subgraphs
/// (Shape→Gather→Unsqueeze→Concat→Reshape) fold to constants with exactly the run-time semantics.
enum HostEvaluation {
    /// Outputs larger than this are left to the planner (it folds floats by running the kernel into its own
    /// memory); integer tensors that big are not shape arithmetic.
    static let maxElements = 1 << 22

    /// A pool without workers: evaluation is tiny, and a shared pool with workers could not serve two sessions
    /// planning at once.
    static let pool = ThreadPool(threadCount: 1)

    /// Evaluates `op` when every present input is known; `nil` otherwise.
    static func run(_ op: any Operator.Type, _ context: OpContext) throws -> [HostValue]? {
        guard context.allInputsKnown, context.inputs.contains(where: { $0 != nil }) else { return nil }
        let outputs = try op.infer(context)
        guard outputs.allSatisfy({ $0.count <= maxElements }) else { return nil }
        var blocks: [UnsafeMutableRawPointer] = []
        defer { for block in blocks { block.deallocate() } }
        func allocate(_ byteCount: Int) -> UnsafeMutableRawPointer {
            let block = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 64), alignment: 64)
            block.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 64))
            blocks.append(block)
            return block
        }
        let inputs: [UnsafeRawPointer?] = context.values.map { value in
            guard let value else { return nil }
            let block = allocate(value.count * value.dtype.size)
            value.write(to: block)
            return UnsafeRawPointer(block)
        }
        let outputBlocks = outputs.map { allocate($0.byteCount) }
        let workspaceBytes = try op.workspaceBytes(context, outputs: outputs)
        let kernel = try op.prepare(context, outputs: outputs, buffers: OpBuffers(
            inputs: inputs, outputs: outputBlocks, workspace: workspaceBytes > 0 ? allocate(workspaceBytes) : nil,
            pool: pool))
        kernel()
        return zip(outputs, outputBlocks).map { type, block in
            HostValue(type: type, bytes: UnsafeRawBufferPointer(start: block, count: type.byteCount))
        }
    }

    /// A kernel that writes a value computed at plan time (used when a host-evaluated op is prepared anyway).
    static func constantKernel(_ value: HostValue, into output: UnsafeMutableRawPointer) -> Kernel {
        let bytes = value.bytes
        return {
            bytes.withUnsafeBytes { source in
                if let base = source.baseAddress { output.copyMemory(from: base, byteCount: source.count) }
            }
        }
    }
}
