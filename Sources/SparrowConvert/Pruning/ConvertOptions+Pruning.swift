import Foundation

extension ConvertOptions {
    /// Whether these options ask for pruning (`--prune` or `--prune-layer`).
    var requestsPruning: Bool { prune != nil || !pruneLayers.isEmpty }

    /// Whether some step runs candidate models on calibration samples.
    var needsCalibration: Bool { pruneBlocks != nil || sensitivity || pruneTargetFidelity != nil }

    /// - Throws: `ConvertError.invalidArgument` when `prune`, a `pruneLayers` fraction or `pruneChannels` is
    ///   outside [0, 1), `pruneBlocks` is below 1, `pruneTargetFidelity` is outside (0, 1] or comes with `prune`
    ///   or `pruneLayers`, or `calibrationDirectory` is given to no step that uses it.
    func validatePruningFractions() throws {
        func valid(_ fraction: Double) -> Bool { fraction >= 0 && fraction < 1 }
        if let prune, !valid(prune) {
            throw ConvertError.invalidArgument("--prune \(prune) is outside [0, 1) (the fraction of weights to zero)")
        }
        for name in pruneLayers.keys.sorted() where !valid(pruneLayers[name]!) {
            throw ConvertError.invalidArgument("--prune-layer \(name)=\(pruneLayers[name]!) is outside [0, 1)")
        }
        if let pruneChannels, !valid(pruneChannels) {
            throw ConvertError.invalidArgument("--prune-channels \(pruneChannels) is outside [0, 1) (the fraction of "
                + "channels to remove)")
        }
        if let pruneBlocks, pruneBlocks < 1 {
            throw ConvertError.invalidArgument("--prune-blocks \(pruneBlocks) is not a positive number of blocks")
        }
        if let target = pruneTargetFidelity {
            guard target > 0, target <= 1 else {
                throw ConvertError.invalidArgument("--prune-target-fidelity \(target) is outside (0, 1] (a cosine "
                    + "similarity, e.g. 0.99)")
            }
            guard prune == nil, pruneLayers.isEmpty else {
                throw ConvertError.invalidArgument("--prune-target-fidelity chooses every layer's sparsity; it does "
                    + "not combine with --prune or --prune-layer")
            }
        }
        if calibrationDirectory != nil, !needsCalibration, quantize == nil {
            throw ConvertError.invalidArgument("--calibration is used by --prune-blocks, --sensitivity, "
                + "--prune-target-fidelity and --quantize only")
        }
    }

    /// The pruning options in `convert.options` form: `prune-blocks=2 prune-channels=0.3 prune=0.9
    /// prune-scope=layer prune-skip=first,last,depthwise prune-layer=NAME=0.5 prune-target-fidelity=0.99
    /// calibration=DIR sparse-format=csr`; scope and skip only with `prune` (skip also with the target), the
    /// calibration directory's last component only, the format only when not auto. `sensitivity` changes nothing
    /// in the model and is not recorded.
    var pruningSummary: [String] {
        var parts: [String] = []
        if let pruneBlocks { parts.append("prune-blocks=\(pruneBlocks)") }
        if let pruneChannels { parts.append("prune-channels=\(pruneChannels)") }
        if let prune {
            parts.append("prune=\(prune)")
            parts.append("prune-scope=\(pruneScope.rawValue)")
            parts.append("prune-skip=" + PruneSkip.describe(pruneSkip))
        }
        for name in pruneLayers.keys.sorted() { parts.append("prune-layer=\(name)=\(pruneLayers[name]!)") }
        if let pruneTargetFidelity {
            parts.append("prune-target-fidelity=\(pruneTargetFidelity)")
            if prune == nil { parts.append("prune-skip=" + PruneSkip.describe(pruneSkip)) }
        }
        if let calibrationDirectory, needsCalibration {
            parts.append("calibration=" + (calibrationDirectory as NSString).lastPathComponent)
        }
        if sparseFormat != .auto { parts.append("sparse-format=\(sparseFormat.rawValue)") }
        return parts
    }
}
