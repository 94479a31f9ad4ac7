import Foundation
import SparrowConvert

/// The table of `sparrow convert --sensitivity`: every prunable layer pruned alone at each level, and the
/// sparsity `--prune-target-fidelity` chose for it.
enum SensitivityTable {
    static func render(_ report: SensitivityReport) -> [String] {
        let percents = report.levels.map { String(Int(($0 * 100).rounded())) }
        // top-1 at 90 % when measured, else at the highest level.
        let top1Level = report.levels.firstIndex(of: 0.9) ?? report.levels.count - 1
        var columns: [TextTable.Column] = [.init("layer"), .init("kind"), .init("params", .right)]
        columns += percents.map { .init("cos@\($0)", .right) }
        if top1Level >= 0 { columns.append(.init("top1@\(percents[top1Level])", .right)) }
        if report.target != nil { columns.append(.init("chosen", .right)) }
        var table = TextTable(columns)
        let chosen = Dictionary(uniqueKeysWithValues: (report.target?.layers ?? []).map { ($0.node, $0.sparsity) })
        for layer in report.layers {
            var cells = [layer.node, layer.kind, Formatting.compact(layer.parameters)]
            cells += layer.cosine.map { String(format: "%.5f", $0) }
            if top1Level >= 0 { cells.append(String(format: "%.1f%%", layer.top1Agreement[top1Level] * 100)) }
            if report.target != nil { cells.append(String(format: "%.0f%%", (chosen[layer.node] ?? 0) * 100)) }
            table.append(cells)
        }
        return table.render()
    }
}
