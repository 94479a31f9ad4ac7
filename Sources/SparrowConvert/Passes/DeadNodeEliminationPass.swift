/// Removes nodes none of whose outputs is read by another node or is a graph output, and drops value_info of
/// values that no longer exist. Other passes leave such nodes behind (a Shape feeding a folded Reshape, a
/// Sigmoid absorbed into SiLU); the runtime would otherwise compute them for nothing.
public struct DeadNodeEliminationPass: GraphPass {
    public var name: String { "eliminate-dead-nodes" }

    public init() {}

    public func run(_ graph: inout IRGraph) throws {
        var live = Set(graph.outputs.map(\.name))
        var keep = [Bool](repeating: false, count: graph.nodes.count)
        // Backwards, so that a whole dead chain goes in one sweep.
        for index in graph.nodes.indices.reversed() {
            let node = graph.nodes[index]
            guard node.outputs.contains(where: { live.contains($0) }) else { continue }
            keep[index] = true
            live.formUnion(node.inputs.filter { !$0.isEmpty })
        }
        graph.nodes = graph.nodes.indices.filter { keep[$0] }.map { graph.nodes[$0] }

        let existing = Set(graph.nodes.flatMap(\.outputs))
        graph.valueInfo = graph.valueInfo.filter { existing.contains($0.key) }
    }
}
