import Sparrow

/// The last gate before lowering: every node must be an operator the runtime implements.
public struct SupportedOps: GraphPass {
    public var name: String { "check-supported-ops" }

    public init() {}

    public func run(_ graph: inout IRGraph) throws {
        try Self.check(graph)
    }

    /// Checks that every node is an `OpKind` in the default ONNX domain (`""` or `ai.onnx`).
    /// - Throws: `ConvertError.unsupportedOps` naming every unsupported operator type with all its nodes, so a
    ///   user sees the whole gap in one run rather than one operator per attempt.
    public static func check(_ graph: IRGraph) throws {
        var order: [String] = []
        var nodesByType: [String: [String]] = [:]
        for node in graph.nodes where !isSupported(node) {
            let key = node.domain.isEmpty || node.domain == "ai.onnx" ? node.opType : "\(node.domain):\(node.opType)"
            if nodesByType[key] == nil { order.append(key) }
            nodesByType[key, default: []].append(node.name)
        }
        guard order.isEmpty else {
            throw ConvertError.unsupportedOps(order.map { (opType: $0, nodes: nodesByType[$0]!) })
        }
    }

    /// Whether the runtime implements `node`'s operator.
    public static func isSupported(_ node: IRNode) -> Bool {
        (node.domain.isEmpty || node.domain == "ai.onnx") && OpKind(name: node.opType) != nil
    }
}
