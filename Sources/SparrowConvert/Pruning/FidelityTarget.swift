/// Per-layer sparsities for `--prune-target-fidelity`: as much magnitude pruning as the sensitivity table allows
/// while the whole model's output cosine similarity stays at or above the target.
///
/// 1. Every layer starts at its most aggressive level (of 0.5, 0.7, 0.9, 0.95) whose single-layer cosine reaches
///    the target, or 0.
/// 2. The back-off sequence: repeatedly lower by one level the layer whose current level has the lowest
///    single-layer cosine (the most sensitive), until every layer is at 0. Step k of the sequence is the
///    configuration after k back-offs; the last one is the unpruned model, whose cosine is 1.
/// 3. The first step that reaches the target is found by bisection over the sequence (the combined cosine grows
///    along it, give or take the interaction of layers), so that the combined model is evaluated about log₂(steps)
///    times rather than once per step; the step chosen always reached the target when it was evaluated.
enum FidelityTarget {
    /// Chooses the sparsities.
    /// - Parameters:
    ///   - graph: The graph before magnitude pruning, as the sensitivity table was measured on.
    ///   - sensitivity: Its sensitivity table.
    /// - Throws: What lowering, planning or running a candidate throws.
    static func select(target: Double, graph: IRGraph, sensitivity: SensitivityReport,
                       evaluator: inout FidelityEvaluator, progress: PruningProgressHandler? = nil) throws
        -> FidelityTargetReport {
        let levels = [0] + sensitivity.levels
        let layers = sensitivity.layers
        func single(_ layer: Int, _ level: Int) -> Double { level == 0 ? 1 : layers[layer].cosine[level - 1] }

        let start = layers.indices.map { layer in
            (0..<levels.count).last { single(layer, $0) >= target } ?? 0
        }
        var steps: [Int] = []
        var current = start
        while let layer = current.indices.filter({ current[$0] > 0 }).min(by: {
            single($0, current[$0]) < single($1, current[$1])
        }) {
            current[layer] -= 1
            steps.append(layer)
        }
        func configuration(after count: Int) -> [Int] {
            var result = start
            for layer in steps.prefix(count) { result[layer] -= 1 }
            return result
        }
        var cache: [String: [Float]] = [:]
        // At most one evaluation of step 0 and ⌈log₂(steps)⌉ of the bisection.
        var bound = steps.isEmpty ? 0 : 1
        while bound > 0, 1 << (bound - 1) < steps.count { bound += 1 }
        var evaluations = 0
        func measure(_ count: Int) throws -> Fidelity {
            let chosen = configuration(after: count)
            var fractions: [String: Double] = [:]
            for (layer, level) in zip(layers, chosen) where level > 0 { fractions[layer.weight] = levels[level] }
            let fidelity = try evaluator.measure(SensitivityAnalysis.pruned(graph, fractions, cache: &cache))
            evaluations += 1
            progress?(PruningProgress(task: "target-fidelity", completed: evaluations, total: max(bound, evaluations),
                                      item: "\(count) back-offs"))
            return fidelity
        }

        var chosenStep = 0
        var fidelity = Fidelity.exact
        if !steps.isEmpty {
            let first = try measure(0)
            if first.cosine >= target {
                fidelity = first
            } else {
                // Invariant: step `low` misses the target, step `high` reaches it (the last step is the unpruned
                // model).
                var low = 0, high = steps.count
                fidelity = .exact
                while high - low > 1 {
                    let middle = (low + high) / 2
                    let measured = try measure(middle)
                    if measured.cosine >= target {
                        high = middle
                        fidelity = measured
                    } else {
                        low = middle
                    }
                }
                chosenStep = high
            }
        }
        let final = configuration(after: chosenStep)
        var report = FidelityTargetReport(target: target, fidelity: fidelity, evaluations: evaluations,
                                          backOffSteps: chosenStep, sequenceLength: steps.count)
        for (index, layer) in layers.enumerated() {
            report.layers.append(.init(node: layer.node, weight: layer.weight, parameters: layer.parameters,
                                       sparsity: levels[final[index]], startSparsity: levels[start[index]],
                                       singleCosine: single(index, final[index])))
        }
        return report
    }
}
