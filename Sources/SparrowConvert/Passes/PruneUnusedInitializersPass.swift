/// Removes initializers that no node reads and that are not graph outputs (BatchNormalization parameters after
/// folding, weights of dead branches), so that the writer does not store them.
public struct PruneUnusedInitializersPass: GraphPass {
    public var name: String { "prune-initializers" }

    public init() {}

    public func run(_ graph: inout IRGraph) throws {
        var used = Set(graph.outputs.map(\.name))
        for node in graph.nodes { used.formUnion(node.inputs) }
        graph.initializers = graph.initializers.filter { used.contains($0.key) }
    }
}
