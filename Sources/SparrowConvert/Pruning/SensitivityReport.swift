import Foundation

/// The per-layer sensitivity table of `--sensitivity` (`SensitivityAnalysis`).
public struct SensitivityReport: Sendable, Encodable {
    /// One prunable weight, pruned alone.
    public struct Layer: Sendable, Encodable {
        /// The first node that reads the weight.
        public let node: String
        public let opType: String
        /// `SparseLayerKind` raw value: `1x1`, `kxk/s1`, `kxk/s2`, `dw`, `fc`.
        public let kind: String
        public let weight: String
        /// Elements of the weight.
        public let parameters: Int
        /// Output cosine similarity at each of `levels`.
        public let cosine: [Double]
        /// Top-1 agreement at each of `levels`.
        public let top1Agreement: [Double]
    }

    /// The sparsities measured.
    public var levels: [Double]
    /// Where the calibration samples came from.
    public var calibration: String
    /// Eligible weights in first-use order.
    public var layers: [Layer] = []
    /// Models run (each on every calibration sample).
    public var evaluations = 0
    /// The per-layer sparsities chosen for `--prune-target-fidelity`, if asked for.
    public var target: FidelityTargetReport?

    public init(levels: [Double], calibration: String) {
        self.levels = levels
        self.calibration = calibration
    }

    /// The report as JSON (snake_case keys).
    /// - Throws: `EncodingError` (does not happen for this type's values).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}

/// What `--prune-target-fidelity` chose (`FidelityTarget`).
public struct FidelityTargetReport: Sendable, Encodable {
    /// One layer's choice.
    public struct Layer: Sendable, Encodable {
        public let node: String
        public let weight: String
        public let parameters: Int
        /// The sparsity applied (0: left alone).
        public let sparsity: Double
        /// The sparsity it started from before backing off.
        public let startSparsity: Double
        /// Its single-layer cosine at `sparsity`.
        public let singleCosine: Double
    }

    /// The minimum output cosine similarity asked for.
    public var target: Double
    /// How the sparsities were found.
    public var method = "start each layer at its most aggressive level whose single-layer cosine reaches the "
        + "target; back off the most sensitive layer one level at a time; bisection over that sequence finds the "
        + "first step whose combined cosine reaches the target"
    /// Fidelity of the model with every chosen sparsity applied.
    public var fidelity: Fidelity
    /// Combined models run.
    public var evaluations: Int
    /// Back-offs applied, of `sequenceLength` possible.
    public var backOffSteps: Int
    public var sequenceLength: Int
    /// Every measured layer, in the sensitivity table's order.
    public var layers: [Layer] = []

    public init(target: Double, fidelity: Fidelity, evaluations: Int, backOffSteps: Int, sequenceLength: Int) {
        self.target = target
        self.fidelity = fidelity
        self.evaluations = evaluations
        self.backOffSteps = backOffSteps
        self.sequenceLength = sequenceLength
    }

    /// Sparsity per node name for the layers pruned: `ConvertOptions.pruneLayers` overrides.
    public var pruneLayers: [String: Double] {
        Dictionary(uniqueKeysWithValues: layers.filter { $0.sparsity > 0 }.map { ($0.node, $0.sparsity) })
    }

    /// Fraction of the measured layers' weights that the choice zeroes.
    public var sparsity: Double {
        let total = layers.reduce(0) { $0 + $1.parameters }
        let zeroed = layers.reduce(0.0) { $0 + Double($1.parameters) * $1.sparsity }
        return total > 0 ? zeroed / Double(total) : 0
    }

    /// Summary lines for `sparrow convert --prune-target-fidelity`.
    public var lines: [String] {
        let pruned = layers.filter { $0.sparsity > 0 }.count
        return [
            String(format: "target fidelity %.4f: %d of %d layers pruned, %.1f%% of their weights zero", target,
                   pruned, layers.count, sparsity * 100),
            String(format: "  fidelity: cosine %.5f, top-1 agreement %.1f%%; %d back-offs of %d, %d combined models "
                   + "evaluated", fidelity.cosine, fidelity.top1Agreement * 100, backOffSteps, sequenceLength,
                   evaluations),
        ]
    }
}
