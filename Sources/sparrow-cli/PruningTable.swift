import Foundation
import SparrowConvert

/// The per-layer table of `sparrow convert`: sparsity, encoding and bytes of every prunable weight, and totals.
enum PruningTable {
    static func render(_ report: PruningReport) -> [String] {
        var table = TextTable([
            .init("layer"), .init("op"), .init("kind"), .init("weight"), .init("sparsity", .right),
            .init("encoding"), .init("dense", .right), .init("stored", .right), .init("note"),
        ])
        for layer in report.layers {
            table.append([
                layer.node, layer.opType, layer.kind.rawValue, InputShapes.format(layer.weightShape),
                percent(layer.sparsity), layer.encoding.name, Formatting.bytes(layer.denseBytes),
                Formatting.bytes(layer.storedBytes), layer.note,
            ])
        }
        let counts = report.encodingCounts
        table.append([
            "total (\(report.layers.count) weights)", "", "", Formatting.compact(report.elementCount),
            percent(report.sparsity), "\(counts.csr) csr, \(counts.coo) coo, \(counts.dense) dense",
            Formatting.bytes(report.denseBytes), Formatting.bytes(report.storedBytes),
            report.denseBytes > 0 ? String(format: "%.2fx smaller", Double(report.denseBytes)
                / Double(max(report.storedBytes, 1))) : "",
        ])
        return table.render()
    }

    private static func percent(_ fraction: Double) -> String { String(format: "%.1f%%", fraction * 100) }
}
