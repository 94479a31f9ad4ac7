/// Which prunable weights `--prune` and `--prune-layer` zero, and at what fraction, after the skip rules.
///
/// A weight shared by several layers is pruned once. It is skipped when any of its layers is skipped (a skip
/// means "keep this layer exact"). `--prune-layer` overrides both `--prune` and the skip rules for the layers it
/// names, and always applies per layer, whatever the scope.
struct PruneTargets {
    /// Weights pruned on their own, each to its fraction (layer scope, and every override).
    var perWeight: [(weight: String, fraction: Double)] = []
    /// Weights pruned together under one threshold (global scope), in first-use order.
    var globalWeights: [String] = []
    var globalFraction = 0.0
    /// Why each weight was skipped or given its fraction, for the report.
    var notes: [String: [String]] = [:]

    /// - Parameter layers: every prunable layer in node order (`PrunableLayer.all`).
    /// - Throws: `ConvertError.invalidArgument` for fractions outside [0, 1), a `--prune-layer` name that is not a
    ///   prunable layer (with nearby names), or different fractions for layers that share a weight.
    init(layers: [PrunableLayer], graph: IRGraph, options: ConvertOptions) throws {
        try options.validatePruningFractions()
        let prunable = Set(layers.map(\.node))
        for name in options.pruneLayers.keys.sorted() where !prunable.contains(name) {
            if let node = graph.nodes.first(where: { $0.name == name }) {
                throw ConvertError.invalidArgument("--prune-layer names '\(name)', which cannot be pruned: "
                    + PrunableLayer.reasonNotPrunable(node, graph))
            }
            let nearby = NearbyNames.near(name, in: layers.map(\.node))
            let hint = nearby.isEmpty
                ? "prunable layers are: " + layers.prefix(8).map(\.node).joined(separator: ", ")
                    + (layers.count > 8 ? ", … (\(layers.count) in all)" : "")
                : "nearby prunable layers: " + nearby.joined(separator: ", ")
            throw ConvertError.invalidArgument("--prune-layer names '\(name)', which is not a node of the converted "
                + "graph; \(hint)")
        }
        var order: [String] = []
        var readers: [String: [PrunableLayer]] = [:]
        for layer in layers {
            if readers[layer.weight] == nil { order.append(layer.weight) }
            readers[layer.weight, default: []].append(layer)
        }
        globalFraction = options.prune ?? 0
        for weight in order {
            let sharing = readers[weight]!
            let overrides = sharing.compactMap { layer in options.pruneLayers[layer.node].map { (layer.node, $0) } }
            if let (node, fraction) = overrides.first {
                if let other = overrides.first(where: { $0.1 != fraction }) {
                    throw ConvertError.invalidArgument("--prune-layer gives \(node) \(fraction) and \(other.0) "
                        + "\(other.1), but they share the weight '\(weight)'")
                }
                perWeight.append((weight, fraction))
                notes[weight, default: []].append("override \(fraction)")
                continue
            }
            guard let prune = options.prune else { continue }
            let reasons = PruneSkip.allCases.filter { skip in
                options.pruneSkip.contains(skip) && sharing.contains { Self.matches(skip, $0, layers) }
            }
            if !reasons.isEmpty {
                notes[weight, default: []].append("skip: " + reasons.map(\.rawValue).joined(separator: ","))
            } else if options.pruneScope == .layer {
                perWeight.append((weight, prune))
            } else {
                globalWeights.append(weight)
            }
        }
    }

    static func matches(_ skip: PruneSkip, _ layer: PrunableLayer, _ layers: [PrunableLayer]) -> Bool {
        switch skip {
        case .first: return layer.node == layers.first?.node
        case .last: return layer.node == layers.last?.node
        case .depthwise: return layer.kind == .depthwise
        }
    }
}
