import Sparrow

/// Folds every value that can be known before running into an initializer, using the runtime's own planner
/// (so folding and inference share one implementation of every op). With fixed input shapes this includes
/// shape arithmetic on activations (Shape → Gather → … → Reshape); with symbolic shapes, only subgraphs that
/// depend on constants alone.
public struct ConstantFoldingPass {
    /// Concrete shapes of graph inputs; inputs missing here must have fixed declared shapes for full folding.
    public var inputShapes: [String: [Int]]

    public init(inputShapes: [String: [Int]] = [:]) {
        self.inputShapes = inputShapes
    }

    /// What the pass did.
    public struct Result {
        public var foldedNodes = 0
        /// Types of every value planning reached (all values when input shapes are fixed).
        public var inferredTypes: [String: (DType, [Int])] = [:]
    }

    public func run(_ graph: inout IRGraph) throws -> Result {
        var inputTypes: [TensorType] = []
        var fixed = true
        for input in graph.inputs where graph.initializers[input.name] == nil {
            if let shape = inputShapes[input.name] ?? input.shape.flatMap(Self.fixedDims) {
                inputTypes.append(TensorType(input.dtype, shape))
            } else {
                fixed = false
            }
        }
        var analysed = graph
        if !fixed {
            analysed = Self.constantOnlySubgraph(graph)
            inputTypes = []
            if analysed.nodes.isEmpty { return Result() }
        }
        let (description, blobs) = try GraphLowering.lower(analysed)
        let bytes = ModelFileWriter.encode(graph: description, blobs: blobs, metadata: [])
        let model = try Model(bytes: bytes)
        let analysis = try PlanAnalysis.analyze(model: model, inputTypes: inputTypes)

        var result = Result()
        var valueOf: [String: HostValue] = [:]
        for (index, tensor) in description.tensors.enumerated() {
            if let type = analysis.types[index] { result.inferredTypes[tensor.name] = (type.dtype, type.shape) }
            if tensor.storage == nil, let value = analysis.values[index] { valueOf[tensor.name] = value }
        }
        var removed = Set<Int>()
        for (index, node) in graph.nodes.enumerated() {
            let named = node.outputs.filter { !$0.isEmpty }
            guard !named.isEmpty, named.allSatisfy({ valueOf[$0] != nil }) else { continue }
            for name in named {
                let value = valueOf[name]!
                graph.initializers[name] = IRTensorData(dtype: value.dtype, shape: value.shape, bytes: value.bytes)
            }
            removed.insert(index)
        }
        graph.nodes = graph.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        result.foldedNodes = removed.count
        return result
    }

    static func fixedDims(_ dims: [Dim]) -> [Int]? {
        var result: [Int] = []
        for dim in dims {
            guard let value = dim.fixedValue else { return nil }
            result.append(value)
        }
        return result
    }

    /// The nodes whose inputs are all constants (transitively), with every output of theirs as a graph output.
    static func constantOnlySubgraph(_ graph: IRGraph) -> IRGraph {
        var known = Set(graph.initializers.keys)
        var nodes: [IRNode] = []
        for node in graph.nodes where node.inputs.allSatisfy({ $0.isEmpty || known.contains($0) }) {
            // A node with no inputs at all (e.g. a leftover Constant) is constant too.
            nodes.append(node)
            for output in node.outputs where !output.isEmpty { known.insert(output) }
        }
        var subgraph = graph
        subgraph.nodes = nodes
        subgraph.inputs = []
        subgraph.outputs = nodes.flatMap { $0.outputs.filter { !$0.isEmpty } }
            .map { IRValueInfo(name: $0, dtype: .float32, shape: nil) }
        return subgraph
    }
}
