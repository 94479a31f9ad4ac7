/// Per-weight results of pruning and of the sparse-encoding choice, for the table after `sparrow convert`.
public struct PruningReport: Sendable {
    /// One prunable weight (a weight shared by several layers appears once, under its first layer).
    public struct Layer: Sendable, Equatable {
        /// Name of the first node that reads the weight.
        public let node: String
        public let opType: String
        public let kind: SparseLayerKind
        public let weightShape: [Int]
        public let elementCount: Int
        public let zeroCount: Int
        public let encoding: WeightEncoding
        /// Bytes as dense f32.
        public let denseBytes: Int
        /// Payload bytes in `encoding` (alignment padding not counted).
        public let storedBytes: Int
        /// Skip reason, override, sharing or pre-pruned state; empty when there is nothing to say.
        public let note: String

        /// Fraction of zero elements.
        public var sparsity: Double { elementCount > 0 ? Double(zeroCount) / Double(elementCount) : 0 }
    }

    /// Prunable weights in first-use order.
    public var layers: [Layer] = []
    /// Whether the options asked for pruning (`--prune` or `--prune-layer`).
    public var pruningRequested = false

    public init(layers: [Layer] = [], pruningRequested: Bool = false) {
        self.layers = layers
        self.pruningRequested = pruningRequested
    }

    public var elementCount: Int { layers.reduce(0) { $0 + $1.elementCount } }
    public var zeroCount: Int { layers.reduce(0) { $0 + $1.zeroCount } }
    public var denseBytes: Int { layers.reduce(0) { $0 + $1.denseBytes } }
    public var storedBytes: Int { layers.reduce(0) { $0 + $1.storedBytes } }
    /// Fraction of zero elements over all prunable weights.
    public var sparsity: Double { elementCount > 0 ? Double(zeroCount) / Double(elementCount) : 0 }

    /// Number of weights stored dense, CSR and COO.
    public var encodingCounts: (dense: Int, csr: Int, coo: Int) {
        var counts = (dense: 0, csr: 0, coo: 0)
        for layer in layers {
            switch layer.encoding {
            case .dense: counts.dense += 1
            case .csr: counts.csr += 1
            case .coo: counts.coo += 1
            }
        }
        return counts
    }

    /// True when there is something to show: pruning was asked for, or some weight is stored sparse.
    public var isWorthShowing: Bool {
        pruningRequested || layers.contains { $0.encoding != .dense }
    }
}
