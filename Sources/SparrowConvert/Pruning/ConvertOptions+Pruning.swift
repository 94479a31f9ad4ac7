extension ConvertOptions {
    /// Whether these options ask for pruning (`--prune` or `--prune-layer`).
    var requestsPruning: Bool { prune != nil || !pruneLayers.isEmpty }

    /// - Throws: `ConvertError.invalidArgument` when `prune` or a `pruneLayers` fraction is outside [0, 1).
    func validatePruningFractions() throws {
        func valid(_ fraction: Double) -> Bool { fraction >= 0 && fraction < 1 }
        if let prune, !valid(prune) {
            throw ConvertError.invalidArgument("--prune \(prune) is outside [0, 1) (the fraction of weights to zero)")
        }
        for name in pruneLayers.keys.sorted() where !valid(pruneLayers[name]!) {
            throw ConvertError.invalidArgument("--prune-layer \(name)=\(pruneLayers[name]!) is outside [0, 1)")
        }
    }

    /// The pruning options in `convert.options` form: `prune=0.9 prune-scope=layer prune-skip=first,last,depthwise
    /// prune-layer=NAME=0.5 sparse-format=csr`; scope and skip only with `prune`, the format only when not auto.
    var pruningSummary: [String] {
        var parts: [String] = []
        if let prune {
            parts.append("prune=\(prune)")
            parts.append("prune-scope=\(pruneScope.rawValue)")
            parts.append("prune-skip=" + PruneSkip.describe(pruneSkip))
        }
        for name in pruneLayers.keys.sorted() { parts.append("prune-layer=\(name)=\(pruneLayers[name]!)") }
        if sparseFormat != .auto { parts.append("sparse-format=\(sparseFormat.rawValue)") }
        return parts
    }
}
