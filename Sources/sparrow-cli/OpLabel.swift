import Sparrow

/// How tables name a node's operation: the op kind, plus the activation fused into it (`Conv+relu`).
enum OpLabel {
    static func label(_ node: NodeDecl) -> String {
        guard let code = node.attributes["activation"]?.intValue, let activation = FusedActivation(rawValue: code),
              activation != .none else { return node.op.name }
        return node.op.name + "+" + String(describing: activation)
    }

    /// Labels of the graph's nodes by node name.
    static func labels(_ graph: GraphDescription) -> [String: String] {
        Dictionary(graph.nodes.map { ($0.name, label($0)) }, uniquingKeysWith: { first, _ in first })
    }
}
