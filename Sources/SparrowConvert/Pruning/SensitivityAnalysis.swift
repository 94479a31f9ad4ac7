import Sparrow

/// Per-layer sensitivity to magnitude pruning: each prunable layer is pruned alone, at each of `levels`, and the
/// model's output fidelity is measured against the graph as it was given (`--sensitivity`).
///
/// The layers are those `--prune` would prune: Conv, Gemm and MatMul with a float32 constant weight
/// (`PrunableLayer`), less those the skip rules leave dense (`PruneSkip`, by default the first, the last and
/// depthwise Convs). A weight shared by several layers is one row, under its first layer.
public enum SensitivityAnalysis {
    /// The sparsities every layer is measured at.
    public static let levels: [Double] = [0.5, 0.7, 0.9, 0.95]

    /// The weights to measure, one layer each (the first that reads it), in first-use order.
    static func layers(in graph: IRGraph, skip: Set<PruneSkip>) -> [PrunableLayer] {
        let all = PrunableLayer.all(in: graph)
        var order: [String] = []
        var readers: [String: [PrunableLayer]] = [:]
        for layer in all {
            if readers[layer.weight] == nil { order.append(layer.weight) }
            readers[layer.weight, default: []].append(layer)
        }
        return order.compactMap { weight in
            let sharing = readers[weight]!
            let skipped = skip.contains { rule in sharing.contains { PruneTargets.matches(rule, $0, all) } }
            return skipped ? nil : sharing[0]
        }
    }

    /// `graph` with each weight in `fractions` (by initializer name) magnitude-pruned to its fraction.
    static func pruned(_ graph: IRGraph, _ fractions: [String: Double], cache: inout [String: [Float]]) -> IRGraph {
        var result = graph
        for (weight, fraction) in fractions where fraction > 0 {
            guard let tensor = graph.initializers[weight] else { continue }
            var values = cache[weight] ?? SparsityPlanner.float32Values(tensor)
            cache[weight] = values
            MagnitudePruning.prune(&values, fraction: fraction)
            result.initializers[weight] = IRTensorData(dtype: .float32, shape: tensor.shape,
                                                       bytes: values.withUnsafeBytes { Array($0) })
        }
        return result
    }

    /// Measures every eligible layer of `graph` at every level.
    /// - Parameters:
    ///   - skip: The skip rules (`ConvertOptions.pruneSkip`).
    ///   - evaluator: Compares with the reference it was made with (the graph before magnitude pruning).
    /// - Throws: What lowering, planning or running a candidate throws.
    static func run(_ graph: IRGraph, skip: Set<PruneSkip>, evaluator: inout FidelityEvaluator,
                    progress: PruningProgressHandler? = nil) throws -> SensitivityReport {
        let layers = layers(in: graph, skip: skip)
        var report = SensitivityReport(levels: levels, calibration: evaluator.calibration.source)
        let total = layers.count * levels.count
        var done = 0
        for layer in layers {
            var cache: [String: [Float]] = [:]
            var cosines: [Double] = [], agreements: [Double] = []
            for level in levels {
                let fidelity = try evaluator.measure(pruned(graph, [layer.weight: level], cache: &cache))
                cosines.append(fidelity.cosine)
                agreements.append(fidelity.top1Agreement)
                done += 1
                progress?(PruningProgress(task: "sensitivity", completed: done, total: total,
                                          item: "\(layer.node) @ \(Int((level * 100).rounded()))%"))
            }
            report.layers.append(.init(node: layer.node, opType: layer.opType, kind: layer.kind.rawValue,
                                       weight: layer.weight, parameters: layer.weightShape.reduce(1, *),
                                       cosine: cosines, top1Agreement: agreements))
        }
        report.evaluations = total
        return report
    }
}
