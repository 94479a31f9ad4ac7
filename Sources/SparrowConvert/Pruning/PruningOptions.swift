/// How `--prune` sets magnitude thresholds (`docs/SPARSE.md`).
public enum PruneScope: String, Sendable, CaseIterable {
    /// One threshold over the weights of every pruned layer together: layers with many small weights lose more
    /// of them than layers with few.
    case global
    /// The same fraction of each pruned layer's weights.
    case layer
}

/// Layers that `--prune` leaves dense unless `--prune-layer` names them.
public enum PruneSkip: String, Sendable, Hashable, CaseIterable {
    /// The first prunable layer in topological order: it sees the raw input and has few weights.
    case first
    /// The last prunable layer in topological order, usually the classifier.
    case last
    /// Convolutions with `group == Cin == Cout`: too few weights to matter, and the most sensitive to pruning.
    case depthwise

    /// `first`, `last` and `depthwise`.
    public static let defaults: Set<PruneSkip> = [.first, .last, .depthwise]

    /// `first,last,depthwise` in that order; `none` for the empty set.
    public static func describe(_ skip: Set<PruneSkip>) -> String {
        let words = allCases.filter(skip.contains).map(\.rawValue)
        return words.isEmpty ? "none" : words.joined(separator: ",")
    }
}

/// How weights with zeros are stored (`--sparse-format`).
public enum SparseFormat: String, Sendable, CaseIterable {
    /// Per layer, from the crossover table and the sizes of CSR and COO (`SparseEncodingPolicy`).
    case auto
    /// CSR for every prunable weight that has a zero.
    case csr
    /// COO for every prunable weight that has a zero.
    case coo
    /// Dense everywhere, zeros included (to compare against the sparse file).
    case dense
}
