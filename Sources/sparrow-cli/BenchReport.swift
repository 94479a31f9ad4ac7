import Foundation
import Sparrow

/// What `sparrow bench` measured: latency, load and plan time, memory and the work of one run. The `--json`
/// document and the Markdown report (`BenchReport+Markdown.swift`) hold the same figures; the JSON keys are
/// the `CodingKeys` below; README.md describes them.
struct BenchReport: Encodable {
    /// What the command measured, before any figure is derived from it.
    struct Measurements {
        var inputs: [Input]
        /// `nil` when the inputs came from files.
        var seed: UInt64?
        var warmupRuns: Int
        /// `--min-time` as applied (`nil` when only `--runs` bounded the timing).
        var minTimeSeconds: Double?
        /// Milliseconds per timed run, in the order they ran.
        var latencies: [Double]
        /// Wall time of the whole timed loop.
        var timedSeconds: Double
        var loadSeconds: Double
        var loadStage: String
        var planSeconds: Double
        var peakResidentBytes: Int?
        var profile: ProfileReport?
    }

    struct Input: Encodable, Equatable {
        let name: String
        let dtype: String
        let shape: [Int]
        /// The `.npy` path, or `random N(0,1)`.
        let source: String
        /// Of the input's bytes: two reports with the same digest timed the same data.
        let sha256: String
    }

    /// The work of one run when some weight is stored sparse: dense-equivalent against what the kernels do.
    struct Sparse: Encodable {
        /// Constants stored CSR or COO in the model.
        let storedSparseWeights: Int
        /// Layers whose kernel reads its weights in sparse form (SpMM); the other sparse weights were expanded
        /// to dense when the session was planned.
        let sparseLayers: Int
        /// MACs with a nonzero weight: each sparse layer's MACs scaled by its weights' density.
        let nonzeroMACs: Int
        /// MACs the kernels perform: `nonzeroMACs` for layers that run sparse, all MACs for the others.
        let executedMACs: Int
        /// 2 · `executedMACs` / median.
        let actualGFLOPS: Double

        enum CodingKeys: String, CodingKey {
            case storedSparseWeights = "stored_sparse_weights", sparseLayers = "sparse_layers"
            case nonzeroMACs = "nonzero_macs", executedMACs = "executed_macs", actualGFLOPS = "actual_gflops"
        }
    }

    struct Profile: Encodable {
        struct Node: Encodable {
            let node: String
            let op: String
            let ms: Double
        }

        struct Kind: Encodable {
            let op: String
            let nodes: Int
            let ms: Double
        }

        let totalMs: Double
        /// Slowest first.
        let nodes: [Node]
        let kinds: [Kind]

        enum CodingKeys: String, CodingKey {
            case totalMs = "total_ms", nodes, kinds
        }

        init(_ report: ProfileReport) {
            totalMs = report.totalSeconds * 1000
            nodes = report.nodes.map { Node(node: $0.node, op: $0.op, ms: $0.seconds * 1000) }
            kinds = report.kinds.map { Kind(op: $0.op, nodes: $0.nodes, ms: $0.seconds * 1000) }
        }
    }

    let model: String
    /// `sparrow` (mapped from the file) or `onnx` (converted in memory).
    let format: String
    let isa: String
    let threads: Int
    let inputs: [Input]
    let seed: UInt64?
    let warmupRuns: Int
    let runs: Int
    let minTimeSeconds: Double?
    let timedSeconds: Double
    let latenciesMs: [Double]
    let medianMs: Double
    let p90Ms: Double
    let p99Ms: Double
    let minMs: Double
    let maxMs: Double
    let meanMs: Double
    /// Population standard deviation.
    let stddevMs: Double
    let loadMs: Double
    let loadStage: String
    let planMs: Double
    let peakRSSBytes: Int?
    let peakRSSSource: String
    let arenaBytes: Int
    let workspaceBytes: Int
    let weightBytes: Int
    let fileBytes: Int
    let macs: Int
    /// 2 · `macs` / median, the dense-equivalent rate.
    let effectiveGFLOPS: Double
    let sparse: Sparse?
    let profile: Profile?
    /// The profile as `run --profile` prints it (not encoded: `profile` is its JSON form).
    let profileReport: ProfileReport?

    enum CodingKeys: String, CodingKey {
        case model, format, isa, threads, inputs, seed, runs
        case warmupRuns = "warmup_runs", minTimeSeconds = "min_time_s", timedSeconds = "timed_s"
        case latenciesMs = "latencies_ms", medianMs = "median_ms", p90Ms = "p90_ms", p99Ms = "p99_ms"
        case minMs = "min_ms", maxMs = "max_ms", meanMs = "mean_ms", stddevMs = "stddev_ms"
        case loadMs = "load_ms", loadStage = "load_stage", planMs = "plan_ms"
        case peakRSSBytes = "peak_rss_bytes", peakRSSSource = "peak_rss_source"
        case arenaBytes = "arena_bytes", workspaceBytes = "workspace_bytes", weightBytes = "weight_bytes"
        case fileBytes = "file_bytes", macs, effectiveGFLOPS = "effective_gflops", sparse, profile
    }

    /// - Parameters:
    ///   - path: The model as named on the command line.
    ///   - session: The planned session that ran.
    ///   - plannedShapes: The input shapes by input name.
    /// - Throws: `CLIError` if nothing was timed.
    init(path: String, session: Session, plannedShapes: [String: [Int]], measured: Measurements) throws {
        guard let statistics = LatencyStatistics(measured.latencies) else { throw CLIError("no timed run") }
        // The same totals `sparrow inspect` prints, so that the two commands never disagree on MACs or bytes.
        let totals = InspectReport(path: path, session: session, plannedShapes: plannedShapes).totals
        model = path
        format = ModelLoader.isONNX(path) ? "onnx" : "sparrow"
        isa = isaName()
        threads = session.threads
        inputs = measured.inputs
        seed = measured.seed
        warmupRuns = measured.warmupRuns
        runs = measured.latencies.count
        minTimeSeconds = measured.minTimeSeconds
        timedSeconds = measured.timedSeconds
        latenciesMs = measured.latencies
        medianMs = statistics.median
        p90Ms = statistics.p90
        p99Ms = statistics.p99
        minMs = statistics.min
        maxMs = statistics.max
        meanMs = statistics.mean
        stddevMs = statistics.standardDeviation
        loadMs = measured.loadSeconds * 1000
        loadStage = measured.loadStage
        planMs = measured.planSeconds * 1000
        peakRSSBytes = measured.peakResidentBytes
        peakRSSSource = ProcessMemory.peakResidentSource
        arenaBytes = totals.arenaBytes ?? session.arenaBytes
        workspaceBytes = totals.workspaceBytes ?? session.workspaceBytes
        weightBytes = totals.weightBytes
        fileBytes = totals.fileBytes
        macs = totals.macsPerRun ?? 0
        effectiveGFLOPS = BenchReport.gflops(macs: macs, milliseconds: statistics.median)
        sparse = BenchReport.sparse(session, median: statistics.median)
        profileReport = measured.profile
        profile = measured.profile.map(Profile.init)
    }

    /// Billions of floating-point operations per second, a MAC counting two.
    static func gflops(macs: Int, milliseconds: Double) -> Double {
        milliseconds > 0 ? 2 * Double(macs) / (milliseconds * 1e6) : 0
    }

    private static func sparse(_ session: Session, median: Double) -> Sparse? {
        let stored = session.model.graph.tensors.count { tensor in
            switch tensor.storage {
            case .csr, .coo: return true
            default: return false
            }
        }
        guard stored > 0 else { return nil }
        let running = session.layerSummaries().filter { !$0.folded }
        let executed = running.reduce(0) { $0 + ($1.runsSparse ? $1.nonzeroMACs : $1.macs) }
        return Sparse(storedSparseWeights: stored, sparseLayers: running.count(where: \.runsSparse),
                      nonzeroMACs: running.reduce(0) { $0 + $1.nonzeroMACs }, executedMACs: executed,
                      actualGFLOPS: gflops(macs: executed, milliseconds: median))
    }

    /// Pretty-printed JSON with sorted keys and a final newline.
    func json() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try encoder.encode(self)) + [0x0A]
    }
}
