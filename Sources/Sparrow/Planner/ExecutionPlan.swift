/// One node that runs at inference time.
struct Step {
    let node: Int
    let kernel: Kernel
}

/// Everything a session needs to run one set of input shapes: resolved types, folded values, one arena with
/// every intermediate at a fixed offset, and prepared kernels. Built once per input shapes, then reused.
final class ExecutionPlan {
    let inputTypes: [TensorType]
    let outputTypes: [TensorType]
    let steps: [Step]
    /// Where `run` copies each graph input.
    let inputSlots: [UnsafeMutableRawPointer]
    /// Where each graph output is after the steps ran.
    let outputSources: [UnsafeRawPointer]
    let arenaBytes: Int
    let workspaceBytes: Int
    /// Sum of the sizes of all arena tensors: what the arena would need without buffer reuse.
    let unsharedBytes: Int
    /// Inferred type of every tensor of the graph (`nil` for tensors planning never reached).
    let tensorTypes: [TensorType?]
    /// Constants that run in sparse form (read by SpMM kernels, never expanded to dense).
    let sparseConstants: Int
    /// Nodes whose kernel reads a weight in sparse form, by node index.
    let sparseNodes: Set<Int>
    private let memory: PlanMemory

    fileprivate init(inputTypes: [TensorType], outputTypes: [TensorType], steps: [Step],
                     inputSlots: [UnsafeMutableRawPointer], outputSources: [UnsafeRawPointer], arenaBytes: Int,
                     workspaceBytes: Int, unsharedBytes: Int, tensorTypes: [TensorType?], memory: PlanMemory,
                     sparseConstants: Int, sparseNodes: Set<Int>) {
        self.sparseConstants = sparseConstants
        self.sparseNodes = sparseNodes
        self.inputTypes = inputTypes
        self.outputTypes = outputTypes
        self.steps = steps
        self.inputSlots = inputSlots
        self.outputSources = outputSources
        self.arenaBytes = arenaBytes
        self.workspaceBytes = workspaceBytes
        self.unsharedBytes = unsharedBytes
        self.tensorTypes = tensorTypes
        self.memory = memory
    }
}

/// Owns the arena and the plan-time buffers (folded values, decoded constants).
final class PlanMemory {
    private var blocks: [UnsafeMutableRawPointer] = []

    func allocate(_ byteCount: Int) -> UnsafeMutableRawPointer {
        let block = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 64), alignment: 64)
        block.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 64))
        blocks.append(block)
        return block
    }

    deinit { for block in blocks { block.deallocate() } }
}

extension ExecutionPlan {
    /// Largest float output folded at plan time by running its kernel once (bigger ones run every time).
    static let foldLimitBytes = 64 << 20

    /// Plans `model` for concrete input types.
    static func make(model: Model, inputTypes: [TensorType], pool: ThreadPool) throws -> ExecutionPlan {
        var builder = try PlanBuilder(model: model, inputTypes: inputTypes, pool: pool)
        return try builder.build()
    }
}

/// What planning learns about every tensor without building kernels: its type and, when known before running,
/// its value. The converter uses it to fold constants and to record inferred types.
package struct PlanAnalysis {
    /// Per tensor of the graph: the inferred type, or `nil` if planning did not reach it.
    package var types: [TensorType?]
    /// Per tensor: the value when it is a constant or computable at plan time.
    package var values: [HostValue?]

    /// Infers types and folds values for `model` with concrete input types (no inputs: constants only).
    package static func analyze(model: Model, inputTypes: [TensorType]) throws -> PlanAnalysis {
        var builder = try PlanBuilder(model: model, inputTypes: inputTypes, pool: ThreadPool(threadCount: 1))
        try builder.analyze()
        return PlanAnalysis(types: builder.types, values: builder.values)
    }
}

/// The planning pass: shapes, folding, liveness, offsets, kernels.
private struct PlanBuilder {
    let model: Model
    let graph: GraphDescription
    let inputTypes: [TensorType]
    let pool: ThreadPool
    let memory = PlanMemory()
    var types: [TensorType?]
    var values: [HostValue?]
    /// Addresses of tensors that live outside the arena: mapped constants, folded values.
    var external: [UnsafeRawPointer?]
    /// Constants stored sparse, kept in kernel form; expanded into `external` only for dense consumers.
    var sparse: [SparseMatrix?]
    var runNodes: [Int] = []
    var workspaceBytes = 0

    init(model: Model, inputTypes: [TensorType], pool: ThreadPool) throws {
        self.model = model
        graph = model.graph
        self.inputTypes = inputTypes
        self.pool = pool
        types = Array(repeating: nil, count: graph.tensors.count)
        values = Array(repeating: nil, count: graph.tensors.count)
        external = Array(repeating: nil, count: graph.tensors.count)
        sparse = Array(repeating: nil, count: graph.tensors.count)
    }

    mutating func build() throws -> ExecutionPlan {
        try analyze()
        return try assemble()
    }

    mutating func analyze() throws {
        try bindInputs()
        try loadConstants()
        // A graph output is copied out of a dense buffer, even when the file stores it sparse.
        for output in graph.outputs where sparse[output] != nil && external[output] == nil { try expandSparse(output) }
        for index in graph.nodes.indices { try plan(node: index) }
    }

    /// Checks input types against the declarations and binds symbolic dimensions consistently.
    private mutating func bindInputs() throws {
        guard inputTypes.count == graph.inputs.count else {
            throw SparrowError.inputMismatch("model has \(graph.inputs.count) inputs, got \(inputTypes.count)")
        }
        var symbols: [String: Int] = [:]
        for (position, tensorIndex) in graph.inputs.enumerated() {
            let decl = graph.tensors[tensorIndex]
            let type = inputTypes[position]
            guard type.dtype == decl.dtype else {
                throw SparrowError.inputMismatch("input '\(decl.name)' expects \(decl.dtype), got \(type.dtype)")
            }
            guard type.shape.count == decl.shape.count else {
                throw SparrowError.inputMismatch(
                    "input '\(decl.name)' expects rank \(decl.shape.count) \(decl.shape), got shape \(type.shape)")
            }
            for (axis, dim) in decl.shape.enumerated() {
                let actual = type.shape[axis]
                switch dim {
                case .fixed(let expected):
                    guard actual == expected else {
                        throw SparrowError.inputMismatch(
                            "input '\(decl.name)' expects \(decl.shape), got \(type.shape) (axis \(axis))")
                    }
                case .symbolic(let symbol):
                    guard actual >= 0 else { throw SparrowError.inputMismatch("input '\(decl.name)' has a negative dimension") }
                    if let bound = symbols[symbol], bound != actual {
                        throw SparrowError.inputMismatch(
                            "dimension '\(symbol)' is \(bound) elsewhere but \(actual) in input '\(decl.name)'")
                    }
                    symbols[symbol] = actual
                }
            }
            types[tensorIndex] = type
        }
    }

    /// Types, addresses and (small or integer) values of constants.
    private mutating func loadConstants() throws {
        for (index, tensor) in graph.tensors.enumerated() {
            guard let storage = tensor.storage, let shape = tensor.fixedShape else { continue }
            let type = TensorType(tensor.dtype, shape)
            types[index] = type
            if case .dense(let blob) = storage {
                external[index] = model.pointer(to: blob)
                if tensor.dtype.isInteger || type.count <= 4096 {
                    values[index] = HostValue(type: type, bytes: model.buffer(of: blob))
                }
            } else if let matrix = SparseMatrix(storage, model: model) {
                // Sparse weights stay sparse until a consumer needs them dense (`plan(node:)`).
                sparse[index] = matrix
                if type.count <= 4096 {
                    values[index] = HostValue(floats: ConstantDecoder.decodeToFloats(storage, shape: shape, model: model),
                                              shape: shape)
                }
            } else {
                let floats = ConstantDecoder.decodeToFloats(storage, shape: shape, model: model)
                let value = HostValue(floats: floats, shape: shape)
                external[index] = UnsafeRawPointer(materialize(value))
                if type.count <= 4096 { values[index] = value }
            }
        }
    }

    /// Whether a tensor exists before running (a constant, dense or sparse, or a folded value).
    private func isPlanTime(_ tensor: Int) -> Bool { external[tensor] != nil || sparse[tensor] != nil }

    /// Dense f32 copy of a sparse constant, for a consumer without a sparse kernel.
    private mutating func expandSparse(_ index: Int) throws {
        let tensor = graph.tensors[index]
        guard let storage = tensor.storage, let shape = tensor.fixedShape else { return }
        let value = HostValue(floats: ConstantDecoder.decodeToFloats(storage, shape: shape, model: model), shape: shape)
        external[index] = UnsafeRawPointer(materialize(value))
    }

    private func materialize(_ value: HostValue) -> UnsafeMutableRawPointer {
        let block = memory.allocate(value.count * value.dtype.size)
        value.write(to: block)
        return block
    }

    private func operatorFor(_ node: NodeDecl) throws -> any Operator.Type {
        guard let op = OperatorRegistry.lookup(node.op) else {
            throw SparrowError.unsupported(node: node.name, reason: "op \(node.op.name) has no implementation")
        }
        return op
    }

    private func context(_ node: NodeDecl) throws -> OpContext {
        var inputs: [TensorType?] = []
        var known: [HostValue?] = []
        for input in node.inputs {
            guard let input else {
                inputs.append(nil)
                known.append(nil)
                continue
            }
            guard let type = types[input] else {
                throw SparrowError.invalidGraph(node: node.name, reason: "input '\(graph.tensors[input].name)' has no type")
            }
            inputs.append(type)
            known.append(values[input])
        }
        return OpContext(node: node, inputs: inputs, values: known,
                         sparse: node.inputs.map { $0.flatMap { sparse[$0] } }, threads: pool.threadCount)
    }

    private mutating func plan(node index: Int) throws {
        let node = graph.nodes[index]
        let op = try operatorFor(node)
        let context = try context(node)
        for (position, input) in node.inputs.enumerated() {
            guard let input, sparse[input] != nil, external[input] == nil,
                  !op.readsSparse(context, input: position) else { continue }
            try expandSparse(input)
        }
        if let folded = try op.evaluate(context) {
            try record(folded, for: node)
            return
        }
        let outputs = try op.infer(context)
        guard outputs.count == node.outputs.count else {
            throw SparrowError.invalidGraph(node: node.name, reason: "\(node.op.name) yields \(outputs.count) outputs, graph has \(node.outputs.count)")
        }
        for type in outputs { try Self.checkSize(type, node: node) }
        for (slot, type) in zip(node.outputs, outputs) { types[slot] = type }
        let inputsAtPlanTime = node.inputs.allSatisfy { $0 == nil || isPlanTime($0!) }
        if inputsAtPlanTime, !context.inputs.isEmpty, outputs.allSatisfy({ !$0.dtype.isInteger }),
           outputs.reduce(0, { $0 + $1.byteCount }) <= ExecutionPlan.foldLimitBytes {
            try record(try foldByRunning(op, context, outputs: outputs), for: node)
            return
        }
        workspaceBytes = max(workspaceBytes, try op.workspaceBytes(context, outputs: outputs))
        runNodes.append(index)
    }

    private mutating func record(_ folded: [HostValue], for node: NodeDecl) throws {
        guard folded.count == node.outputs.count else {
            throw SparrowError.invalidGraph(node: node.name, reason: "evaluation yields \(folded.count) outputs, graph has \(node.outputs.count)")
        }
        for (slot, value) in zip(node.outputs, folded) {
            try Self.checkSize(value.type, node: node)
            types[slot] = value.type
            values[slot] = value
            external[slot] = UnsafeRawPointer(materialize(value))
        }
    }

    /// Largest tensor a plan accepts: a hostile or mistaken graph (Expand to [1e9, 1e9], a huge Resize scale)
    /// must fail with an error before any allocation, not trap on overflow or exhaust memory.
    static let maxTensorBytes = 1 << 34

    static func checkSize(_ type: TensorType, node: NodeDecl) throws {
        var bytes = type.dtype.size
        for dim in type.shape {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: dim)
            guard dim >= 0, !overflow, product <= maxTensorBytes else {
                throw SparrowError.invalidGraph(
                    node: node.name, reason: "output shape \(type.shape) is negative or larger than 16 GiB")
            }
            bytes = product
        }
    }

    /// Runs a float kernel once on known inputs, so that constant subgraphs cost nothing per inference.
    private func foldByRunning(_ op: any Operator.Type, _ context: OpContext, outputs: [TensorType]) throws -> [HostValue] {
        let node = context.node
        let inputs: [UnsafeRawPointer?] = node.inputs.map { $0.flatMap { external[$0] } }
        let outputBuffers = outputs.map { memory.allocate($0.byteCount) }
        let workspaceSize = try op.workspaceBytes(context, outputs: outputs)
        let workspace = workspaceSize > 0 ? memory.allocate(workspaceSize) : nil
        let kernel = try op.prepare(context, outputs: outputs, buffers: OpBuffers(
            inputs: inputs, outputs: outputBuffers, workspace: workspace, pool: pool))
        kernel()
        return zip(outputs, outputBuffers).map { type, buffer in
            HostValue(type: type, bytes: UnsafeRawBufferPointer(start: buffer, count: type.byteCount))
        }
    }

    /// Liveness, arena offsets, and kernels bound to final addresses.
    private mutating func assemble() throws -> ExecutionPlan {
        var definedAt: [Int: Int] = [:]
        var lastUse: [Int: Int] = [:]
        for input in graph.inputs where !isPlanTime(input) {
            definedAt[input] = -1
            lastUse[input] = -1
        }
        for (step, nodeIndex) in runNodes.enumerated() {
            let node = graph.nodes[nodeIndex]
            for input in node.inputs.compactMap({ $0 }) where !isPlanTime(input) {
                lastUse[input] = step
            }
            for output in node.outputs {
                definedAt[output] = step
                lastUse[output] = max(lastUse[output] ?? step, step)
            }
        }
        for output in graph.outputs where external[output] == nil { lastUse[output] = runNodes.count }
        let intervals = definedAt.map { tensor, start in
            ArenaInterval(tensor: tensor, first: start, last: lastUse[tensor] ?? start,
                          bytes: types[tensor]!.byteCount)
        }
        let layout = ArenaLayout.assign(intervals)
        let totalBytes = layout.size + workspaceBytes
        guard totalBytes <= 4 * Self.maxTensorBytes else {
            throw SparrowError.invalidGraph(node: graph.nodes.last?.name ?? "", reason: "arena of \(totalBytes) bytes exceeds 64 GiB")
        }
        let arena = memory.allocate(totalBytes)
        let workspace = workspaceBytes > 0 ? arena + layout.size : nil
        func address(_ tensor: Int) -> UnsafeMutableRawPointer {
            if let pointer = external[tensor] { return UnsafeMutableRawPointer(mutating: pointer) }
            return arena + layout.offsets[tensor]!
        }
        var steps: [Step] = []
        var sparseNodes: Set<Int> = []
        for nodeIndex in runNodes {
            let node = graph.nodes[nodeIndex]
            let context = try context(node)
            let op = try operatorFor(node)
            let readsSparse = node.inputs.indices.contains {
                context.sparseInput($0) != nil && op.readsSparse(context, input: $0)
            }
            if readsSparse { sparseNodes.insert(nodeIndex) }
            let outputs = node.outputs.map { types[$0]! }
            // A constant read only in sparse form has no dense buffer: its kernel takes `OpContext.sparseInput`.
            let buffers = OpBuffers(
                inputs: node.inputs.map { $0.flatMap { external[$0] == nil && sparse[$0] != nil ? nil : UnsafeRawPointer(address($0)) } },
                outputs: node.outputs.map(address), workspace: workspace, pool: pool)
            steps.append(Step(node: nodeIndex, kernel: try op.prepare(context, outputs: outputs, buffers: buffers)))
        }
        return ExecutionPlan(
            inputTypes: inputTypes, outputTypes: graph.outputs.map { types[$0]! }, steps: steps,
            inputSlots: graph.inputs.map(address), outputSources: graph.outputs.map { UnsafeRawPointer(address($0)) },
            arenaBytes: layout.size, workspaceBytes: workspaceBytes,
            unsharedBytes: intervals.reduce(0) { $0 + $1.bytes }, tensorTypes: types, memory: memory,
            sparseConstants: sparse.indices.filter { sparse[$0] != nil && external[$0] == nil }.count,
            sparseNodes: sparseNodes)
    }
}
