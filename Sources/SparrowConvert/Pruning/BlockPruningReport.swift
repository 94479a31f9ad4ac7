import Foundation

/// What `BlockPruning.apply` scored and removed.
public struct BlockPruningReport: Sendable, Encodable {
    /// A residual block with an identity shortcut, scored with it alone removed from the unpruned model.
    public struct Candidate: Sendable, Encodable {
        /// Name of the Add that closes the block.
        public let block: String
        /// The shortcut value the branch starts from.
        public let input: String
        /// Nodes of the branch.
        public let nodes: Int
        /// Multiply–accumulates of the branch at batch 1.
        public let macsRemoved: Int
        public let cosine: Double
        public let top1Agreement: Double
    }

    /// One greedy round: the block removed and the model's fidelity with it and every earlier choice removed.
    public struct Round: Sendable, Encodable {
        public let round: Int
        public let block: String
        public let cosine: Double
        public let top1Agreement: Double
        /// MACs of the blocks removed so far.
        public let macsRemoved: Int
    }

    /// Blocks asked to be removed (`--prune-blocks`).
    public var requested: Int
    /// Where the calibration samples came from.
    public var calibration: String
    /// How blocks were chosen.
    public var method = "greedy: score every candidate, remove the best, score the rest again"
    /// Every candidate in graph order, scored alone.
    public var candidates: [Candidate] = []
    /// The removals, in order.
    public var rounds: [Round] = []
    /// Fidelity of the model with every chosen block removed.
    public var fidelity = Fidelity.exact
    /// Models run to decide (each on every calibration sample).
    public var evaluations = 0
    /// Multiply–accumulates of every Conv, ConvTranspose, Gemm and MatMul at batch 1, as in
    /// `ChannelPruningReport`.
    public var macsBefore = 0
    public var macsAfter = 0
    /// Why fewer blocks than asked were removed, if so.
    public var note: String?

    /// An empty report.
    public init(requested: Int, calibration: String) {
        self.requested = requested
        self.calibration = calibration
    }

    /// Names of the removed blocks' Adds, in removal order.
    public var removed: [String] { rounds.map(\.block) }

    /// The round in which `block` was removed, if it was.
    public func round(of block: String) -> Int? { rounds.first { $0.block == block }?.round }

    /// Summary lines for `sparrow convert --prune-blocks` (the candidate table is printed apart from them).
    public var lines: [String] {
        var result = ["block pruning: \(rounds.count) of \(candidates.count) residual blocks removed (\(method))"]
        result.append("  calibration: \(calibration)")
        if let note { result.append("  note: \(note)") }
        let ratio = macsBefore > 0 ? Double(macsAfter) / Double(macsBefore) : 1
        result.append(String(format: "  fidelity: cosine %.5f, top-1 agreement %.1f%%; %d models evaluated",
                             fidelity.cosine, fidelity.top1Agreement * 100, evaluations))
        result.append(String(format: "  MACs: %.1f M → %.1f M (%.1f%%)", Double(macsBefore) / 1e6,
                             Double(macsAfter) / 1e6, ratio * 100))
        return result
    }

    /// The report as JSON (snake_case keys, `removed` included), for `--prune-blocks-report`.
    /// - Throws: `EncodingError` (does not happen for this type's values).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(Encoded(report: self))
    }

    /// The stored fields plus `removed`.
    private struct Encoded: Encodable {
        let report: BlockPruningReport
        enum CodingKeys: String, CodingKey {
            case requested, calibration, method, candidates, rounds, fidelity, evaluations, macsBefore, macsAfter, note
            case removed
        }
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(report.requested, forKey: .requested)
            try container.encode(report.calibration, forKey: .calibration)
            try container.encode(report.method, forKey: .method)
            try container.encode(report.candidates, forKey: .candidates)
            try container.encode(report.rounds, forKey: .rounds)
            try container.encode(report.fidelity, forKey: .fidelity)
            try container.encode(report.evaluations, forKey: .evaluations)
            try container.encode(report.macsBefore, forKey: .macsBefore)
            try container.encode(report.macsAfter, forKey: .macsAfter)
            try container.encodeIfPresent(report.note, forKey: .note)
            try container.encode(report.removed, forKey: .removed)
        }
    }
}
