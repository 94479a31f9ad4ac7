import Foundation
import SparrowConvert

/// The per-layer table of `sparrow convert --quantize`: storage, bytes and weight SQNR of every quantized weight,
/// totals, and the model's fidelity against the f32 model.
enum QuantizationTable {
    static func render(_ report: QuantizationReport) -> [String] {
        var table = TextTable([
            .init("layer"), .init("op"), .init("weight"), .init("scales"), .init("storage"),
            .init("f32", .right), .init("int8", .right), .init("SQNR dB", .right),
        ])
        for layer in report.layers {
            table.append([
                layer.node, layer.opType, InputShapes.format(layer.weightShape),
                "axis \(layer.axis) (\(layer.weightShape[layer.axis]))",
                layer.encoding == .dense ? "int8/ch" : "\(layer.encoding.name) int8",
                Formatting.bytes(layer.bytesBefore), Formatting.bytes(layer.bytesAfter), decibels(layer.sqnr),
            ])
        }
        table.append([
            "total (\(report.layers.count) weights)", "", "", "", report.mode.rawValue,
            Formatting.bytes(report.bytesBefore), Formatting.bytes(report.bytesAfter),
            "min " + decibels(report.worstSQNR),
        ])
        var lines = table.render()
        if let fidelity = report.fidelity {
            lines.append(String(format: "fidelity against f32 on %@: cosine %.6f, top-1 agreement %.1f%%",
                                report.samples, fidelity.cosine, fidelity.top1Agreement * 100))
        }
        return lines
    }

    private static func decibels(_ value: Double) -> String {
        value.isInfinite ? "exact" : String(format: "%.1f", value)
    }
}
