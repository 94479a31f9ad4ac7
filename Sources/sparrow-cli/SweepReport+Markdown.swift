import Foundation

extension SweepReport {
    /// report.md: how it was measured, one table row per variant (missing ones say why), and the chart.
    func markdown() -> [String] {
        let plural = { (count: Int, noun: String) in "\(count) \(noun)\(count == 1 ? "" : "s")" }
        let seedNote = seed.map { " (seed \($0))" } ?? ""
        var lines = ["## sparrow bench --sweep \(model)", ""]
        lines.append("\(machine.cpu) (\(plural(machine.cores, "core"))), isa \(machine.isa), "
            + "\(plural(settings.threads, "thread")); \(plural(settings.rounds, "round")), each timing every variant "
            + "in turn (\(plural(settings.warmupPerRound, "warm-up run")) + \(plural(settings.runsPerRound, "timed run"))"
            + " per variant and round; each round starts one variant later).")
        lines += inputs.map { input in
            "- input `\(input.name)`: \(input.dtype) \(InputShapes.format(input.shape)), \(input.source)" + seedNote
        }
        let randomNote = fidelityInputs.random
            ? " These are made-up inputs: fidelity says how far a variant's outputs move, not how accurate it is."
            : ""
        lines.append("- fidelity against `\(reference)` on \(fidelityInputs.source).\(randomNote)")
        lines.append("- speed-up: dense round median ÷ variant round median, per round; median (min–max) over rounds. "
            + "Latency spread: min–max of the round medians.")
        lines.append("")
        lines += table().render()
        // One line per reason: the int8 variants all miss for the same one.
        var reasons: [String] = []
        for reason in variants.compactMap(\.unavailableReason) where !reasons.contains(reason) { reasons.append(reason) }
        for reason in reasons {
            let names = variants.filter { $0.unavailableReason == reason }.map { "`\($0.name)`" }
            lines += ["", names.joined(separator: ", ") + ": " + reason + "."]
        }
        lines += ["", "![latency against file size; speed-up against sparsity](report.svg)"]
        return lines
    }

    private func table() -> MarkdownTable {
        let hasAccuracy = variants.contains { $0.figures?.accuracy != nil }
        var columns: [TextTable.Column] = [
            .init("variant"), .init("convert"), .init("weights 0 or removed", .right), .init("file", .right),
            .init("MACs (nonzero)", .right), .init("median ms", .right), .init("rounds min–max", .right),
            .init("speed-up (min–max)", .right), .init("cosine", .right), .init("top-1 agr.", .right),
        ]
        if hasAccuracy { columns.append(.init("accuracy", .right)) }
        var table = MarkdownTable(columns)
        for variant in variants {
            let arguments = variant.convertArguments.isEmpty ? "—" : variant.convertArguments
            guard let figures = variant.figures else {
                let failed = variant.unavailableReason?.hasPrefix(Self.conversionFailed) == true
                table.append([variant.name, arguments, "—", "—", "—",
                              failed ? "conversion failed" : "not available in this build"])
                continue
            }
            let macs = figures.nonzeroMACs == figures.macs ? Formatting.compact(figures.macs)
                : "\(Formatting.compact(figures.macs)) (\(Formatting.compact(figures.nonzeroMACs)))"
            var row = [
                variant.name, arguments, String(format: "%.1f%%", figures.weightSparsity * 100),
                Formatting.bytes(figures.fileBytes), macs, Self.milliseconds(figures.medianMs),
                Self.milliseconds(figures.roundSpreadMs.min) + "–" + Self.milliseconds(figures.roundSpreadMs.max),
                String(format: "%.2f× (%.2f–%.2f)", figures.speedupVsDense.median, figures.speedupVsDense.min,
                       figures.speedupVsDense.max),
                figures.fidelity.map { String(format: "%.5f", $0.cosine) } ?? "—",
                figures.fidelity.map { String(format: "%.1f%%", $0.top1Agreement * 100) } ?? "—",
            ]
            if hasAccuracy {
                row.append(figures.accuracy.map { String(format: "%.1f%% (%d/%d)", $0.top1 * 100, $0.correct, $0.total) }
                    ?? "—")
            }
            table.append(row)
        }
        return table
    }

    /// Three significant digits for small times, two decimals from 1 ms, one from 10 ms: `0.0123`, `4.75`, `17.0`.
    static func milliseconds(_ value: Double) -> String {
        value >= 10 ? String(format: "%.1f", value) : value >= 1 ? String(format: "%.2f", value)
            : String(format: "%.3g", value)
    }

    /// report.svg's content: one point per measured variant.
    func chart() -> SweepChart {
        let points = variants.compactMap { variant -> SweepChart.Point? in
            guard let figures = variant.figures else { return nil }
            let series: SweepChart.Series = variant.kind == "dense" ? .reference
                : variant.kind == "magnitude" ? .magnitude : .other
            return SweepChart.Point(
                label: variant.name, series: series, fileBytes: figures.fileBytes,
                latency: Spread(median: figures.medianMs, min: figures.roundSpreadMs.min,
                                max: figures.roundSpreadMs.max),
                sparsity: variant.requestedSparsity ?? 0, speedup: figures.speedupVsDense)
        }
        let rounds = "\(settings.rounds) round\(settings.rounds == 1 ? "" : "s") × \(settings.runsPerRound) runs"
        let threads = "\(settings.threads) thread\(settings.threads == 1 ? "" : "s")"
        let missing = variants.filter { !$0.available }
        let failed = missing.filter { $0.unavailableReason?.hasPrefix(Self.conversionFailed) == true }.map(\.name)
        let unavailable = missing.map(\.name).filter { !failed.contains($0) }
        var notes: [String] = []
        if !unavailable.isEmpty {
            notes.append("Not available in this build: " + unavailable.joined(separator: ", ") + ".")
        }
        if !failed.isEmpty { notes.append("Conversion failed (see report.md): " + failed.joined(separator: ", ") + ".") }
        return SweepChart(title: "\(modelName): Sparrow variants (sparrow bench --sweep)",
                          subtitle: "\(machine.cpu), \(threads), isa \(machine.isa); \(rounds), interleaved",
                          points: points, notes: notes)
    }
}
