import Foundation
import Sparrow
import SparrowConvert

/// What `sparrow bench --sweep` measured, one entry per variant (also those this build cannot make). report.json
/// is this structure (keys below; README.md describes them), report.md its table (`SweepReport+Markdown.swift`),
/// report.svg its chart (`SweepChart`).
struct SweepReport: Encodable {
    struct Machine: Encodable {
        /// `model name` of /proc/cpuinfo.
        let cpu: String
        let cores: Int
        /// The kernel set the runtime chose.
        let isa: String
    }

    struct Settings: Encodable {
        let threads: Int
        let rounds: Int
        let runsPerRound: Int
        let warmupPerRound: Int

        enum CodingKeys: String, CodingKey {
            case threads, rounds, runsPerRound = "runs_per_round", warmupPerRound = "warmup_per_round"
        }
    }

    /// The samples fidelity and accuracy were measured on.
    struct FidelityInputs: Encodable {
        let source: String
        let random: Bool
        let samples: Int
        let labels: Int?
    }

    /// A median with the smallest and largest of the values it is taken over.
    struct Spread: Encodable, Equatable {
        let median: Double
        let min: Double
        let max: Double

        init(_ values: [Double]) {
            median = LatencyStatistics(values)?.median ?? 0
            min = values.min() ?? 0
            max = values.max() ?? 0
        }

        init(median: Double, min: Double, max: Double) {
            self.median = median
            self.min = min
            self.max = max
        }
    }

    struct FidelityFigures: Encodable, Equatable {
        let cosine: Double
        let top1Agreement: Double

        enum CodingKeys: String, CodingKey {
            case cosine, top1Agreement = "top1_agreement"
        }
    }

    struct Accuracy: Encodable, Equatable {
        let correct: Int
        let total: Int
        var top1: Double { total > 0 ? Double(correct) / Double(total) : 0 }

        enum CodingKeys: String, CodingKey {
            case correct, total, top1
        }

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(correct, forKey: .correct)
            try container.encode(total, forKey: .total)
            try container.encode(top1, forKey: .top1)
        }
    }

    /// The figures of a variant that was converted and timed.
    struct Figures: Encodable {
        let file: String
        let convertMs: Double
        let loadMs: Double
        let planMs: Double
        /// Fraction of the dense model's prunable weights (Conv, Gemm, MatMul) that are zero or removed.
        let weightSparsity: Double
        let fileBytes: Int
        let weightBytes: Int
        let arenaBytes: Int
        let workspaceBytes: Int
        let macs: Int
        /// MACs with a nonzero weight (`macs` for a model without sparse weights).
        let nonzeroMACs: Int
        /// MACs the kernels perform: dense layers count all their MACs.
        let executedMACs: Int
        let sparseLayers: Int
        let runs: Int
        /// Of all timed runs of all rounds.
        let medianMs: Double
        let p90Ms: Double
        let minMs: Double
        let maxMs: Double
        let meanMs: Double
        let stddevMs: Double
        let effectiveGFLOPS: Double
        /// The median of each round's block, in round order, and their median, min and max.
        let roundMediansMs: [Double]
        let roundSpreadMs: Spread
        /// Dense round median / this variant's round median, per round: median, min and max over rounds.
        let speedupVsDense: Spread
        let fidelity: FidelityFigures?
        let accuracy: Accuracy?
        let latenciesMs: [Double]

        enum CodingKeys: String, CodingKey {
            case file, convertMs = "convert_ms", loadMs = "load_ms", planMs = "plan_ms"
            case weightSparsity = "weight_sparsity", fileBytes = "file_bytes", weightBytes = "weight_bytes"
            case arenaBytes = "arena_bytes", workspaceBytes = "workspace_bytes", macs, nonzeroMACs = "nonzero_macs"
            case executedMACs = "executed_macs", sparseLayers = "sparse_layers", runs, medianMs = "median_ms"
            case p90Ms = "p90_ms", minMs = "min_ms", maxMs = "max_ms", meanMs = "mean_ms", stddevMs = "stddev_ms"
            case effectiveGFLOPS = "effective_gflops", roundMediansMs = "round_medians_ms"
            case roundSpreadMs = "round_spread_ms", speedupVsDense = "speedup_vs_dense", fidelity, accuracy
            case latenciesMs = "latencies_ms"
        }
    }

    struct Variant: Encodable {
        let name: String
        /// `dense`, `magnitude`, `channels`, `int8-weights`, `int8` or `sparse-int8`.
        let kind: String
        let convertArguments: String
        let requestedSparsity: Double?
        /// Why the variant is missing; `nil` when it was measured.
        let unavailableReason: String?
        let figures: Figures?

        var available: Bool { figures != nil }

        enum CodingKeys: String, CodingKey {
            case name, kind, available, convertArguments = "convert_arguments"
            case requestedSparsity = "requested_sparsity", unavailableReason = "reason"
        }

        /// One flat object: the variant's fields, then its figures when it has them.
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(kind, forKey: .kind)
            try container.encode(available, forKey: .available)
            try container.encode(convertArguments, forKey: .convertArguments)
            try container.encodeIfPresent(requestedSparsity, forKey: .requestedSparsity)
            try container.encodeIfPresent(unavailableReason, forKey: .unavailableReason)
            try figures?.encode(to: encoder)
        }
    }

    let tool = "sparrow bench --sweep"
    let model: String
    let modelName: String
    let machine: Machine
    let settings: Settings
    let inputs: [BenchReport.Input]
    let seed: UInt64?
    /// The variant every speed-up and fidelity figure is relative to.
    let reference = "dense"
    let fidelityInputs: FidelityInputs
    let peakRSSBytes: Int?
    let peakRSSSource = ProcessMemory.peakResidentSource
    let variants: [Variant]

    enum CodingKeys: String, CodingKey {
        case tool, model, modelName = "model_name", machine, settings, inputs, seed, reference
        case fidelityInputs = "fidelity_inputs", peakRSSBytes = "peak_rss_bytes", peakRSSSource = "peak_rss_source"
        case variants
    }

    /// - Parameters:
    ///   - variants: Every variant of the sweep, in report order.
    ///   - candidates: The variants that were converted and timed, the dense one first.
    ///   - failures: The error of each variant whose conversion failed, by name.
    /// - Throws: `CLIError` if a variant has no timed run.
    init(model: String, variants: [SweepVariant], candidates: [BenchSweep.Candidate], failures: [String: String],
         shapes: [String: [Int]],
         inputs: [BenchReport.Input], seed: UInt64?, calibration: Calibration, settings: Settings,
         peakRSSBytes: Int?) throws {
        self.model = model
        modelName = ((model as NSString).lastPathComponent as NSString).deletingPathExtension
        machine = Machine(cpu: SweepReport.cpuModel(), cores: ProcessInfo.processInfo.activeProcessorCount,
                          isa: isaName())
        self.settings = settings
        self.inputs = inputs
        self.seed = seed
        fidelityInputs = FidelityInputs(source: calibration.source, random: calibration.isRandom,
                                        samples: calibration.samples.count, labels: calibration.labels?.count)
        self.peakRSSBytes = peakRSSBytes
        let denseWeights = candidates.first?.conversion.pruning.elementCount ?? 0
        let denseMedians = candidates.first?.roundMedians ?? []
        self.variants = try variants.map { variant in
            guard let candidate = candidates.first(where: { $0.variant == variant }) else {
                var reason = failures[variant.name].map { SweepReport.conversionFailed + $0 } ?? "not measured"
                if case .unavailable(let why) = variant.conversion(base: ConvertOptions()) { reason = why }
                return Variant(name: variant.name, kind: variant.kindName, convertArguments: variant.convertArguments,
                               requestedSparsity: variant.requestedSparsity, unavailableReason: reason, figures: nil)
            }
            let figures = try SweepReport.figures(candidate, shapes: shapes, denseWeights: denseWeights,
                                                  denseMedians: denseMedians)
            return Variant(name: variant.name, kind: variant.kindName, convertArguments: variant.convertArguments,
                           requestedSparsity: variant.requestedSparsity, unavailableReason: nil, figures: figures)
        }
    }

    private static func figures(_ candidate: BenchSweep.Candidate, shapes: [String: [Int]], denseWeights: Int,
                                denseMedians: [Double]) throws -> Figures {
        let measured = BenchReport.Measurements(
            inputs: [], seed: nil, warmupRuns: 0, minTimeSeconds: nil, latencies: candidate.latencies,
            timedSeconds: candidate.timedSeconds, loadSeconds: candidate.loadSeconds, loadStage: "mmap + validate",
            planSeconds: candidate.planSeconds, peakResidentBytes: nil, profile: nil)
        let bench = try BenchReport(path: candidate.path, session: candidate.session, plannedShapes: shapes,
                                    measured: measured)
        let pruning = candidate.conversion.pruning
        let nonzeroWeights = pruning.elementCount - pruning.zeroCount
        let speedups = zip(denseMedians, candidate.roundMedians).map { dense, variant in
            variant > 0 ? dense / variant : 0
        }
        return Figures(
            file: (candidate.path as NSString).lastPathComponent, convertMs: candidate.convertSeconds * 1000,
            loadMs: bench.loadMs, planMs: bench.planMs,
            weightSparsity: denseWeights > 0 ? max(0, 1 - Double(nonzeroWeights) / Double(denseWeights)) : 0,
            fileBytes: bench.fileBytes, weightBytes: bench.weightBytes, arenaBytes: bench.arenaBytes,
            workspaceBytes: bench.workspaceBytes, macs: bench.macs, nonzeroMACs: bench.sparse?.nonzeroMACs ?? bench.macs,
            executedMACs: bench.sparse?.executedMACs ?? bench.macs, sparseLayers: bench.sparse?.sparseLayers ?? 0,
            runs: bench.runs, medianMs: bench.medianMs, p90Ms: bench.p90Ms, minMs: bench.minMs, maxMs: bench.maxMs,
            meanMs: bench.meanMs, stddevMs: bench.stddevMs, effectiveGFLOPS: bench.effectiveGFLOPS,
            roundMediansMs: candidate.roundMedians, roundSpreadMs: Spread(candidate.roundMedians),
            speedupVsDense: Spread(speedups),
            fidelity: candidate.fidelity.map { FidelityFigures(cosine: $0.cosine, top1Agreement: $0.top1Agreement) },
            accuracy: candidate.accuracy, latenciesMs: candidate.latencies)
    }

    /// How the reason of a variant whose conversion threw begins.
    static let conversionFailed = "conversion failed: "

    /// The `model name` line of /proc/cpuinfo, or the machine architecture where there is none.
    static func cpuModel() -> String {
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("model name") {
                if let colon = line.firstIndex(of: ":") {
                    let name = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    if !name.isEmpty { return name }
                }
            }
        }
        var system = utsname()
        uname(&system)
        let machine = withUnsafeBytes(of: &system.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return machine.isEmpty ? "unknown CPU" : machine
    }

    /// Pretty-printed JSON with sorted keys and a final newline.
    func json() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try encoder.encode(self)) + [0x0A]
    }
}

extension SweepVariant {
    /// The `kind` of report.json.
    var kindName: String {
        switch kind {
        case .dense: return "dense"
        case .magnitude: return "magnitude"
        case .channels: return "channels"
        case .int8Weights: return "int8-weights"
        case .sparseInt8Weights: return "sparse-int8-weights"
        case .int8: return "int8"
        case .sparseInt8: return "sparse-int8"
        }
    }
}
