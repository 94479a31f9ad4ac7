import Foundation
import SparrowConvert

/// The candidate table of `sparrow convert --prune-blocks`: every residual block scored with it alone removed,
/// and the round in which the greedy choice removed it.
enum BlockPruningTable {
    static func render(_ report: BlockPruningReport) -> [String] {
        var table = TextTable([
            .init("block"), .init("input"), .init("nodes", .right), .init("MACs removed", .right),
            .init("cosine", .right), .init("top-1", .right), .init("removed"),
        ])
        for candidate in report.candidates {
            let round = report.round(of: candidate.block)
            table.append([
                candidate.block, candidate.input, String(candidate.nodes),
                Formatting.compact(candidate.macsRemoved) + Formatting.percent(
                    Double(candidate.macsRemoved), of: Double(report.macsBefore)).wrappedInParentheses,
                String(format: "%.5f", candidate.cosine), String(format: "%.1f%%", candidate.top1Agreement * 100),
                round.map { "round \($0)" } ?? "",
            ])
        }
        for round in report.rounds {
            table.append([
                "after round \(round.round)", "", "",
                Formatting.compact(round.macsRemoved) + Formatting.percent(
                    Double(round.macsRemoved), of: Double(report.macsBefore)).wrappedInParentheses,
                String(format: "%.5f", round.cosine), String(format: "%.1f%%", round.top1Agreement * 100),
                round.block,
            ])
        }
        return table.render()
    }
}

extension String {
    /// ` (text)`
    var wrappedInParentheses: String { " (\(self))" }
}
