/// The names the importer gives ONNX nodes. Messages, `--prune-layer` and pruning masks refer to nodes by these
/// names, and `MaskedONNXExport` finds a converted node's source node by them, so both sides use this one rule.
enum ONNXNodeNames {
    /// Whether `proto` is a default-domain Constant, which the importer turns into an initializer, not a node.
    static func isConstant(_ proto: Onnx_NodeProto) -> Bool {
        proto.opType == "Constant" && (proto.domain.isEmpty || proto.domain == "ai.onnx")
    }

    /// One entry per node of `nodes`: its unique name in the imported graph, or `nil` for a Constant.
    ///
    /// A node keeps its name when it has one not taken by an earlier node; an unnamed node is called
    /// `<op_type>_<index>` (its index among all nodes, Constants included); a name already taken gets the first
    /// free suffix `_1`, `_2`, ...
    static func assign(_ nodes: [Onnx_NodeProto]) -> [String?] {
        var taken = Set<String>()
        return nodes.enumerated().map { index, proto in
            guard !isConstant(proto) else { return nil }
            var name = proto.name
            if name.isEmpty || taken.contains(name) {
                let base = name.isEmpty ? "\(proto.opType)_\(index)" : name
                var candidate = base
                var suffix = 0
                while taken.contains(candidate) {
                    suffix += 1
                    candidate = "\(base)_\(suffix)"
                }
                name = candidate
            }
            taken.insert(name)
            return name
        }
    }
}
