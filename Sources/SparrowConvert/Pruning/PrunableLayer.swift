import Sparrow

/// A layer whose weight magnitude pruning may zero and sparse storage may encode: a Conv or Gemm whose input 1 is
/// a float32 initializer, or a MatMul with exactly one initializer operand. ConvTranspose is not one: its weight
/// is `[Cin, Cout/group, k...]`, and no sparse kernel is planned for it.
struct PrunableLayer: Equatable {
    /// Node name (unique after import).
    var node: String
    var opType: String
    /// Initializer name of the weight; several layers may share one.
    var weight: String
    var kind: SparseLayerKind
    var weightShape: [Int]

    static let opTypes: Set<String> = ["Conv", "Gemm", "MatMul"]

    /// Every prunable layer of `graph`, in node (topological) order. A weight that any node reads other than as
    /// the weight of a prunable layer (an Add's operand, say) is left out: zeroing it would change that node too.
    static func all(in graph: IRGraph) -> [PrunableLayer] {
        let candidates = graph.nodes.compactMap { candidate($0, graph) }
        let uses = IRUseIndex(graph)
        let weightReaders = Dictionary(grouping: candidates, by: \.weight).mapValues { Set($0.map(\.node)) }
        return candidates.filter { layer in
            guard !uses.graphOutputs.contains(layer.weight) else { return false }
            let readers = uses.consumers(of: layer.weight).map { graph.nodes[$0] }
            return readers.allSatisfy { reader in
                weightReaders[layer.weight]!.contains(reader.name)
                    && reader.inputs.filter { $0 == layer.weight }.count == 1
            }
        }
    }

    /// Why `node` is not prunable, for messages naming it in `--prune-layer`.
    static func reasonNotPrunable(_ node: IRNode, _ graph: IRGraph) -> String {
        if node.opType == "ConvTranspose" { return "ConvTranspose weights stay dense" }
        guard opTypes.contains(node.opType), node.domain.isEmpty else {
            return "it is a \(node.opType), not a Conv, Gemm or MatMul"
        }
        guard candidate(node, graph) != nil else {
            return "its weight is not a float32 constant (\(node.opType == "MatMul" ? "one operand" : "input 1") "
                + "must be an initializer)"
        }
        return "its weight is also read by other nodes"
    }

    private static func candidate(_ node: IRNode, _ graph: IRGraph) -> PrunableLayer? {
        guard opTypes.contains(node.opType), node.domain.isEmpty else { return nil }
        let weightName: String
        if node.opType == "MatMul" {
            let constants = node.inputs.prefix(2).filter { graph.initializers[$0] != nil }
            guard node.inputs.count == 2, constants.count == 1 else { return nil }
            weightName = constants[0]
        } else {
            guard node.inputs.count >= 2, graph.initializers[node.inputs[1]] != nil else { return nil }
            weightName = node.inputs[1]
        }
        let weight = graph.initializers[weightName]!
        guard weight.dtype == .float32, weight.elementCount > 0, !weight.shape.isEmpty,
              weight.bytes.count == weight.elementCount * 4 else { return nil }
        let kind: SparseLayerKind
        if node.opType == "Conv" {
            let group = Int(node.attributes["group"]?.intFromIR ?? 1)
            let strides = (node.attributes["strides"]?.intsFromIR ?? []).map { Int($0) }
            guard let convolution = SparseLayerKind.convolution(weightShape: weight.shape, group: group,
                                                                strides: strides) else { return nil }
            kind = convolution
        } else {
            kind = .fullyConnected
        }
        return PrunableLayer(node: node.name, opType: node.opType, weight: weightName, kind: kind,
                             weightShape: weight.shape)
    }
}
