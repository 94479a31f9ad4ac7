import ArgumentParser
import Foundation
import Sparrow
import SparrowConvert

/// `sparrow bench`: latency, load time, memory and throughput of one model, for people (Markdown) and machines
/// (JSON).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark a model: latency percentiles, load and plan time, memory, MACs and GFLOP/s.",
        discussion: """
            Loads the model (an .onnx file is converted in memory first) and plans a session, timing each; runs \
            the warm-up, then timed runs: exactly --runs N, or until --min-time seconds have passed (at least \
            \(BenchCommand.minimumRuns) runs), or both bounds at once; without either, --min-time \
            \(Int(BenchCommand.defaultMinTime)). Prints a Markdown report: median, p90, p99, min, mean and \
            standard deviation of the latency; load and plan time; the process's peak RSS (getrusage ru_maxrss), \
            the activation arena, weight and file bytes; MACs per run and effective GFLOP/s (2·MACs / median). \
            When weights are stored sparse, also the nonzero MACs, the MACs the kernels perform and the actual \
            GFLOP/s. Inputs are seeded random N(0,1) values of the model's input shapes (a symbolic batch \
            dimension is 1) unless --input files are given.

            With --sweep MODEL.onnx: converts the model into variants (dense fp32, magnitude-pruned at each \
            --sparsities level, --prune-channels fractions; int8 forms are listed as not available until the \
            converter has them), writes each to --out as <variant>.sparrow, measures each variant's fidelity \
            against the dense one (cosine similarity, top-1 agreement, top-1 accuracy with labels) on \
            --calibration inputs or seeded random ones, then times all variants in --rounds interleaved rounds \
            (--warmup untimed and --runs timed runs per variant and round). Writes report.json, report.md (also \
            printed) and report.svg (latency against file size; speed-up against sparsity) to --out.
            """)

    /// Timed runs `--min-time` does at least, so that the percentiles rest on more than one sample.
    static let minimumRuns = 5
    /// Seconds of timed runs when neither `--runs` nor `--min-time` is given.
    static let defaultMinTime = 1.0

    @Argument(help: "The model: a .sparrow file, or an .onnx file (converted in memory).")
    var model: String

    @Option(name: .customLong("input"), help: ArgumentHelp(
        "An input as a .npy file; repeat for each model input, in the model's input order (default: seeded "
            + "random N(0,1)).", valueName: "file.npy"))
    var inputs: [String] = []

    @Option(name: .customLong("input-shape"), help: ArgumentHelp(
        "The shape of a random input, e.g. input=1x3x224x224 (repeat for each input to set).",
        valueName: "name=dims"))
    var inputShapes: [String] = []

    @Option(help: ArgumentHelp("Seed of the random inputs (default: 0).", valueName: "n"))
    var seed: UInt64?

    @Option(help: ArgumentHelp("Threads used by the kernels (the calling thread included).", valueName: "n"))
    var threads = 1

    @Option(help: ArgumentHelp("Untimed runs before the timed ones.", valueName: "n"))
    var warmup = 3

    @Option(help: ArgumentHelp("Timed runs: exactly this many, or at least this many with --min-time.",
                               valueName: "n"))
    var runs: Int?

    @Option(help: ArgumentHelp("Time runs until this many seconds have passed (at least \(minimumRuns) runs).",
                               valueName: "seconds"))
    var minTime: Double?

    @Option(help: ArgumentHelp(
        "Also write the report as JSON to this file; '-' writes only the JSON, to standard output.",
        valueName: "path"))
    var json: String?

    @Flag(help: "Profile one more run after the timed runs: the time of every node and per op kind.")
    var profile = false

    @OptionGroup(title: "Sweep")
    var sweep: SweepArguments

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must not be negative") }
        if let runs { guard runs >= 1 else { throw ValidationError("--runs must be at least 1") } }
        if let minTime {
            guard minTime.isFinite, minTime > 0 else { throw ValidationError("--min-time must be a positive number") }
        }
        if !inputs.isEmpty {
            guard inputShapes.isEmpty else {
                throw ValidationError("--input-shape sets random inputs; the shapes of --input files are their own")
            }
            guard seed == nil else { throw ValidationError("--seed sets random inputs; it cannot go with --input") }
        }
        guard json?.isEmpty != true else { throw ValidationError("--json needs a path, or '-' for standard output") }
        try validateSweep()
    }

    /// Options that go only with `--sweep`, and options a sweep has no use for.
    private func validateSweep() throws {
        guard sweep.sweep else {
            guard !sweep.givesSweepOptions else {
                throw ValidationError("--sparsities, --prune-channels, --calibration, --out and --rounds go with --sweep")
            }
            return
        }
        guard ModelLoader.isONNX(model) else {
            throw ValidationError("--sweep converts an ONNX model into its variants: give an .onnx file")
        }
        guard json == nil else { throw ValidationError("--sweep writes report.json to --out; leave out --json") }
        guard !profile else { throw ValidationError("--sweep cannot --profile; profile one variant's file instead") }
        guard minTime == nil else { throw ValidationError("--sweep times --runs per variant and round, not --min-time") }
        if let rounds = sweep.rounds { guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") } }
        _ = try sweep.sparsityList()
        _ = try sweep.channelFractionList()
        guard sweep.out?.isEmpty != true else { throw ValidationError("--out needs a directory") }
    }

    func run() throws {
        if sweep.sweep {
            try BenchSweep(self).run()
            return
        }
        let report = try measure()
        if json == "-" {
            FileHandle.standardOutput.write(Data(try report.json()))
            return
        }
        report.markdown().forEach { print($0) }
        if let json {
            try AtomicFile.write(try report.json(), to: json)
            standardError("wrote \(json)")
        }
    }

    /// Loads, plans, warms up, times and (with `--profile`) profiles the model.
    func measure() throws -> BenchReport {
        let arrays = try inputs.map { (path: $0, array: try NpyArray(contentsOf: $0)) }
        let given = try InputShapes.parseAll(inputShapes)
        let loadStart = monotonicSeconds()
        let (model, shapes) = try ModelLoader.load(self.model) { signatures in
            arrays.isEmpty ? try RandomInputs.shapes(given: given, signatures: signatures)
                : try ModelLoader.match(arrays, to: signatures)
        }
        let loadSeconds = monotonicSeconds() - loadStart
        let planStart = monotonicSeconds()
        let session = try Session(model: model, threads: threads, inputShapes: shapes)
        let planSeconds = monotonicSeconds() - planStart

        let orderedShapes = try model.inputs.map { info in
            guard let shape = shapes[info.name] else { throw CLIError("no shape for input '\(info.name)'") }
            return shape
        }
        let tensors = arrays.isEmpty ? try RandomInputs.tensors(orderedShapes, seed: seed ?? 0)
            : try arrays.map { try $0.array.tensor() }
        let described = BenchCommand.describe(tensors, names: model.inputs.map(\.name), files: arrays.map(\.path))

        var outputs = try RunCommand.preallocatedOutputs(session, tensors)
        for _ in 0..<warmup { try session.run(tensors, into: &outputs) }
        let minimumRuns = runs ?? BenchCommand.minimumRuns
        let minimumSeconds = minTime ?? (runs == nil ? BenchCommand.defaultMinTime : 0)
        var latencies: [Double] = []
        latencies.reserveCapacity(minimumRuns)
        let timedStart = monotonicSeconds()
        var now = timedStart
        while latencies.count < minimumRuns || now - timedStart < minimumSeconds {
            let start = monotonicSeconds()
            try session.run(tensors, into: &outputs)
            now = monotonicSeconds()
            latencies.append((now - start) * 1000)
        }
        let timedSeconds = now - timedStart
        let profileReport = try profile
            ? ProfileReport(session.profile(tensors).timings, graph: model.graph) : nil

        let measured = BenchReport.Measurements(
            inputs: described, seed: arrays.isEmpty ? seed ?? 0 : nil, warmupRuns: warmup,
            minTimeSeconds: minimumSeconds > 0 ? minimumSeconds : nil, latencies: latencies,
            timedSeconds: timedSeconds, loadSeconds: loadSeconds,
            loadStage: ModelLoader.isONNX(self.model) ? "ONNX import + convert + validate" : "mmap + validate",
            planSeconds: planSeconds, peakResidentBytes: ProcessMemory.peakResidentBytes(), profile: profileReport)
        return try BenchReport(path: self.model, session: session, plannedShapes: shapes, measured: measured)
    }

    /// The inputs as the report names them, with a digest of their bytes.
    /// - Parameter files: The `.npy` path of each input, or none for random inputs.
    static func describe(_ tensors: [Tensor], names: [String], files: [String]) -> [BenchReport.Input] {
        zip(names, tensors).enumerated().map { index, pair in
            let (name, tensor) = pair
            var digest = SHA256()
            tensor.withUnsafeBytes { digest.update($0) }
            return BenchReport.Input(name: name, dtype: tensor.dtype.description, shape: tensor.shape,
                                     source: files.isEmpty ? "random N(0,1)" : files[index],
                                     sha256: SHA256.hex(digest.finalize()))
        }
    }
}
