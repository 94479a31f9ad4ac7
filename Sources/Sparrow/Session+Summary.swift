internal import CKernels

/// One node of a planned model, as `sparrow inspect` shows it.
public struct LayerSummary: Sendable {
    public let name: String
    public let op: OpKind
    public let inputShapes: [[Int]]
    public let outputShapes: [[Int]]
    /// Elements of the node's constant inputs (weights, biases).
    public let parameters: Int
    /// Storage encoding of the largest constant input ("—" when there is none).
    public let encoding: String
    /// Bytes the node's constant inputs take in the file.
    public let weightBytes: Int
    /// Multiply-accumulates of one run (convolutions and matrix products; 0 for other ops).
    public let macs: Int
    /// Whether the node was evaluated at plan time and costs nothing per run.
    public let folded: Bool
}

extension Session {
    /// Per-node summary of the current plan (empty before the session is planned).
    public func layerSummaries() -> [LayerSummary] {
        guard let plan = currentPlan else { return [] }
        let graph = model.graph
        let running = Set(plan.steps.map(\.node))
        return graph.nodes.enumerated().map { index, node in
            let inputShapes = node.inputs.map { $0.flatMap { plan.tensorTypes[$0]?.shape } ?? [] }
            let outputShapes = node.outputs.map { plan.tensorTypes[$0]?.shape ?? [] }
            var parameters = 0, bytes = 0, largest = 0
            var encoding = "—"
            for input in node.inputs.compactMap({ $0 }) {
                let tensor = graph.tensors[input]
                guard let storage = tensor.storage, let shape = tensor.fixedShape else { continue }
                let count = shape.reduce(1, *)
                parameters += count
                bytes += storage.blobs.reduce(0) { $0 + $1.length }
                if count > largest {
                    largest = count
                    encoding = storage.name
                }
            }
            return LayerSummary(name: node.name, op: node.op, inputShapes: inputShapes, outputShapes: outputShapes,
                                parameters: parameters, encoding: encoding, weightBytes: bytes,
                                macs: Self.macs(node.op, node, inputShapes, outputShapes),
                                folded: !running.contains(index))
        }
    }

    static func macs(_ op: OpKind, _ node: NodeDecl, _ inputs: [[Int]], _ outputs: [[Int]]) -> Int {
        guard let output = outputs.first, inputs.count >= 2 else { return 0 }
        let weights = inputs[1]
        switch op {
        case .conv:
            // Each output element reduces over (Cin / group) · kh · kw.
            guard weights.count >= 2 else { return 0 }
            return output.reduce(1, *) * weights.dropFirst().reduce(1, *)
        case .convTranspose:
            guard let x = inputs.first, weights.count >= 2 else { return 0 }
            return x.reduce(1, *) * weights.dropFirst().reduce(1, *)
        case .gemm, .matMul:
            guard let a = inputs.first, let k = (node.attributes["transA"]?.intValue == 1 ? a.first : a.last) else { return 0 }
            return output.reduce(1, *) * k
        default:
            return 0
        }
    }
}

/// The kernel level chosen for this CPU ("scalar", "avx2", "avx512", "neon"; `SPARROW_ISA` can lower it).
public func isaName() -> String { String(cString: spw_isa_name()) }
