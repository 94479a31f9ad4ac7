import Foundation

extension BenchReport {
    /// The report for people: a header line, one table of figures, and the profile when asked for.
    func markdown() -> [String] {
        let plural = { (count: Int, noun: String) in "\(count) \(noun)\(count == 1 ? "" : "s")" }
        var timing = "\(plural(threads, "thread")), isa \(isa); \(plural(warmupRuns, "warm-up run")), then "
            + "\(plural(runs, "timed run")) in \(String(format: "%.2f", timedSeconds)) s"
        if let minTimeSeconds { timing += " (--min-time \(BenchReport.seconds(minTimeSeconds)))" }
        let seedNote = seed.map { " (seed \($0))" } ?? ""
        let inputLines = inputs.map { input in
            "- input `\(input.name)`: \(input.dtype) \(InputShapes.format(input.shape)), \(input.source)" + seedNote
        }
        var lines = ["## sparrow bench \(model)", "", timing, ""] + inputLines + [""]
        lines += figureTable().render()
        if let profileReport {
            lines += ["", "### Profile of one run after the timed runs", "", "```"] + profileReport.lines() + ["```"]
        }
        return lines
    }

    private func figureTable() -> MarkdownTable {
        func milliseconds(_ value: Double) -> String { Formatting.milliseconds(value) + " ms" }
        func count(_ value: Int) -> String {
            value < 1000 ? String(value) : "\(Formatting.compact(value)) (\(Formatting.grouped(value)))"
        }
        func rate(_ value: Double) -> String { String(format: "%.2f", value) }
        var table = MarkdownTable([.init("figure"), .init("value", .right)])
        table.append(["median", milliseconds(medianMs)])
        table.append(["p90", milliseconds(p90Ms)])
        table.append(["p99", milliseconds(p99Ms)])
        table.append(["min", milliseconds(minMs)])
        table.append(["mean", milliseconds(meanMs)])
        table.append(["stddev", milliseconds(stddevMs)])
        table.append(["load (\(loadStage))", milliseconds(loadMs)])
        table.append(["plan (session: shapes, arena, kernels)", milliseconds(planMs)])
        table.append(["peak RSS of the process (ru_maxrss)", peakRSSBytes.map(Formatting.bytes) ?? "unknown"])
        table.append(["activation arena (+ kernel workspace)",
                      "\(Formatting.bytes(arenaBytes)) (+ \(Formatting.bytes(workspaceBytes)))"])
        table.append(["weights / file", "\(Formatting.bytes(weightBytes)) / \(Formatting.bytes(fileBytes))"])
        table.append(["MACs per run", count(macs)])
        table.append(["effective GFLOP/s (2·MACs / median)", rate(effectiveGFLOPS)])
        if let sparse {
            table.append(["weights stored sparse (layers run sparse)",
                          "\(sparse.storedSparseWeights) (\(sparse.sparseLayers))"])
            table.append(["nonzero MACs per run (% of MACs)",
                          count(sparse.nonzeroMACs) + " (" + Formatting.percent(Double(sparse.nonzeroMACs),
                                                                               of: Double(macs)) + ")"])
            table.append(["MACs the kernels perform per run", count(sparse.executedMACs)])
            table.append(["actual GFLOP/s (2·performed MACs / median)", rate(sparse.actualGFLOPS)])
        }
        return table
    }

    /// `1 s`, `0.5 s`
    private static func seconds(_ value: Double) -> String { String(format: "%g s", value) }
}
