extension Converter {
    /// The sensitivity table of `graph` (the graph about to be magnitude-pruned) and, for
    /// `--prune-target-fidelity`, the options with the chosen sparsities as `pruneLayers` overrides.
    /// - Throws: What lowering, planning or running a candidate throws.
    static func sensitivity(of graph: IRGraph, options: ConvertOptions, calibration: Calibration,
                            progress: PruningProgressHandler?) throws -> (SensitivityReport, ConvertOptions) {
        var evaluator = try FidelityEvaluator(reference: graph, calibration: calibration)
        var report = try SensitivityAnalysis.run(graph, skip: options.pruneSkip, evaluator: &evaluator,
                                                 progress: progress)
        var magnitude = options
        if let target = options.pruneTargetFidelity {
            let choice = try FidelityTarget.select(target: target, graph: graph, sensitivity: report,
                                                   evaluator: &evaluator, progress: progress)
            // Only the choice goes on: the planner validates these options again, and the target excludes
            // explicit overrides.
            magnitude.prune = nil
            magnitude.pruneLayers = choice.pruneLayers
            magnitude.pruneTargetFidelity = nil
            magnitude.sensitivity = false
            magnitude.calibrationDirectory = nil
            report.target = choice
        }
        return (report, magnitude)
    }
}
