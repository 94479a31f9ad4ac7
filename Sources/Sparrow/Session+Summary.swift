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
    /// The part of `macs` whose weight is nonzero: `macs` scaled by the density of a weight stored sparse
    /// (CSR/COO); equal to `macs` for a weight stored dense, even one that holds zeros.
    public let nonzeroMACs: Int
    /// Whether the kernel reads the weights in sparse form (SpMM), so that it performs `nonzeroMACs`; sparse
    /// weights of a layer without a sparse kernel are expanded to dense at plan time and cost `macs`.
    public let runsSparse: Bool
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
            let macs = Self.macs(node.op, node, inputShapes, outputShapes)
            return LayerSummary(name: node.name, op: node.op, inputShapes: inputShapes, outputShapes: outputShapes,
                                parameters: parameters, encoding: encoding, weightBytes: bytes, macs: macs,
                                nonzeroMACs: Self.nonzeroMACs(macs, node, graph),
                                runsSparse: plan.sparseNodes.contains(index), folded: !running.contains(index))
        }
    }

    /// `macs` times nonzeros / elements of the weight (input 1, the one `macs` reduces over) when it is stored
    /// sparse. Exact in integers: nonzeros never exceed elements, so the quotient fits.
    static func nonzeroMACs(_ macs: Int, _ node: NodeDecl, _ graph: GraphDescription) -> Int {
        guard node.inputs.count >= 2, let weight = node.inputs[1], let storage = graph.tensors[weight].storage,
              let elements = graph.tensors[weight].fixedShape?.reduce(1, *), elements > 0 else { return macs }
        let nonzeros: Int
        switch storage {
        case .csr(let csr): nonzeros = csr.nonzeros
        case .coo(let coo): nonzeros = coo.nonzeros
        default: return macs
        }
        return elements.dividingFullWidth(macs.multipliedFullWidth(by: min(nonzeros, elements))).quotient
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
