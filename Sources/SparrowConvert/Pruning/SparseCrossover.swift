/// The minimum sparsity (fraction of zero weights) at which a layer kind's sparse kernel beats its dense kernel.
/// Below it, `SparseEncodingPolicy` keeps a weight dense even when it has zeros.
///
/// The values of `provisional` are estimates, not measurements: they are to be replaced by the crossovers that
/// `CKernels/bench/spmm_bench.c` measures (see docs/SPARSE.md, "Crossover table", which lists them; change both
/// together).
public struct SparseCrossover: Sendable, Equatable {
    /// Minimum sparsity per kind; a kind without an entry is never stored sparse.
    public var minimumSparsity: [SparseLayerKind: Double]

    /// A table with the given entries.
    public init(minimumSparsity: [SparseLayerKind: Double]) {
        self.minimumSparsity = minimumSparsity
    }

    /// The table the converter uses until measured values replace it.
    public static let provisional = SparseCrossover(minimumSparsity: [
        .pointwise: 0.6,
        .spatial: 0.7,
        .stridedSpatial: 0.75,
        .fullyConnected: 0.5,
        // Depthwise: never sparse. Its weights are a tiny share of the model and of its time, and a k×k
        // filter per channel leaves a sparse kernel nothing to skip in bulk.
    ])

    /// The minimum sparsity of `kind`, `nil` when it stays dense at any sparsity.
    public subscript(kind: SparseLayerKind) -> Double? { minimumSparsity[kind] }
}
