import ArgumentParser
import Foundation
import Sparrow
import SparrowConvert

/// `sparrow run`: one inference on `.npy` inputs, optionally timed or profiled.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a model on .npy inputs; optionally time or profile it.",
        discussion: """
            Inputs are given in the model's input order and set the shapes the session is planned for. Without \
            --output-dir, prints each output's shape and first values (and the argmax of every row of an [N, C] \
            output). With --runs N, times N runs after the warm-up and prints median, p90, min and mean. With \
            --profile, prints the time of every node of one run and the total per op kind.
            """)

    @Argument(help: "The model: a .sparrow file, or an .onnx file (converted in memory for the inputs' shapes).")
    var model: String

    @Option(name: .customLong("input"), help: ArgumentHelp(
        "An input as a .npy file; repeat for each model input, in the model's input order.", valueName: "file.npy"))
    var inputs: [String] = []

    @Option(help: ArgumentHelp("Write each output to <dir>/<output name>.npy instead of printing it.",
                               valueName: "dir"))
    var outputDir: String?

    @Option(help: ArgumentHelp("Threads used by the kernels (the calling thread included).", valueName: "n"))
    var threads = 1

    @Option(help: ArgumentHelp("Untimed runs before timing or profiling (default: 3 with --runs or --profile, else 0).",
                               valueName: "n"))
    var warmup: Int?

    @Option(help: ArgumentHelp("Timed runs (0: a single untimed run).", valueName: "n"))
    var runs = 0

    @Option(help: ArgumentHelp("Write the latencies of --runs as JSON to this file.", valueName: "path"))
    var timingJson: String?

    @Option(help: ArgumentHelp(
        "Integer class labels (.npy, one per row of the first output): print the top-1 accuracy of the argmax.",
        valueName: "file.npy"))
    var labels: String?

    @Flag(help: "Profile one run (after the warm-up) and print the time of every node and per op kind.")
    var profile = false

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard runs >= 0 else { throw ValidationError("--runs must not be negative") }
        guard (warmup ?? 0) >= 0 else { throw ValidationError("--warmup must not be negative") }
        guard timingJson == nil || runs > 0 else { throw ValidationError("--timing-json needs --runs N (N > 0)") }
    }

    func run() throws {
        let arrays = try inputs.map { (path: $0, array: try NpyArray(contentsOf: $0)) }
        let (model, shapes) = try ModelLoader.load(self.model) { try ModelLoader.match(arrays, to: $0) }
        let tensors = try arrays.map { try $0.array.tensor() }
        let session = try Session(model: model, threads: threads, inputShapes: shapes)

        let warmupRuns = warmup ?? (runs > 0 || profile ? 3 : 0)
        var outputs: [Tensor]
        var latencies: [Double] = []
        if warmupRuns == 0, runs == 0, !profile {
            outputs = try session.run(tensors)
        } else {
            outputs = try RunCommand.preallocatedOutputs(session, tensors)
            for _ in 0..<warmupRuns { try session.run(tensors, into: &outputs) }
            latencies.reserveCapacity(runs)
            for _ in 0..<runs {
                let start = monotonicSeconds()
                try session.run(tensors, into: &outputs)
                latencies.append((monotonicSeconds() - start) * 1000)
            }
        }
        var profileReport: ProfileReport?
        if profile {
            let profiled = try session.profile(tensors)
            outputs = profiled.outputs
            profileReport = ProfileReport(profiled.timings, graph: model.graph)
        }

        try report(outputs, names: model.outputs.map(\.name))
        let storedSparse = model.graph.tensors.count { tensor in
            switch tensor.storage {
            case .csr, .coo: return true
            default: return false
            }
        }
        if storedSparse > 0 {
            // Sparse weights whose layer has no sparse kernel are expanded to dense at plan time.
            print("sparse weights in use: \(session.sparseWeightCount) of \(storedSparse) stored sparse")
        }
        if let labels, let first = outputs.first {
            print(try LabelAccuracy(logits: first, labels: try NpyArray(contentsOf: labels).tensor()).line)
        }
        if let statistics = LatencyStatistics(latencies) {
            print("\(runs) timed run\(runs == 1 ? "" : "s") after \(warmupRuns) warm-up, "
                + "\(threads) thread\(threads == 1 ? "" : "s"), isa \(isaName()):")
            print("  " + statistics.line)
            if let timingJson {
                let record = TimingRecord(latencies: latencies, statistics: statistics, threads: threads,
                                          warmup: warmupRuns, isa: isaName(), model: self.model)
                try AtomicFile.write(try record.encoded(), to: timingJson)
                print("wrote \(timingJson)")
            }
        }
        if let profileReport {
            print("")
            profileReport.lines().forEach { print($0) }
        }
    }

    /// Zero tensors of the planned output types, so that timed runs allocate nothing (a plain run if the
    /// session could not be planned up front).
    static func preallocatedOutputs(_ session: Session, _ inputs: [Tensor]) throws -> [Tensor] {
        let shapes = session.outputShapes
        guard shapes.count == session.model.outputs.count else { return try session.run(inputs) }
        return zip(shapes, session.model.outputs).map { Tensor(zeros: $0, dtype: $1.dtype) }
    }

    /// Writes the outputs to `--output-dir`, or prints a preview of each.
    private func report(_ outputs: [Tensor], names: [String]) throws {
        guard let outputDir else {
            for (name, tensor) in zip(names, outputs) {
                OutputPreview.lines(name: name, tensor: tensor).forEach { print($0) }
            }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
        } catch {
            let reason = (error as NSError).localizedFailureReason ?? error.localizedDescription
            throw CLIError("cannot create output directory \(outputDir): \(reason)")
        }
        for (fileName, tensor) in zip(OutputNames.fileNames(for: names), outputs) {
            let path = (outputDir as NSString).appendingPathComponent(fileName + ".npy")
            try NpyArray(tensor).write(to: path)
            print("wrote \(path) (\(tensor.dtype) \(InputShapes.format(tensor.shape)))")
        }
    }
}

/// The `--timing-json` file.
struct TimingRecord: Encodable {
    let latenciesMs: [Double]
    let medianMs: Double
    let p90Ms: Double
    let minMs: Double
    let meanMs: Double
    let threads: Int
    let warmup: Int
    let isa: String
    let model: String

    enum CodingKeys: String, CodingKey {
        case latenciesMs = "latencies_ms", medianMs = "median_ms", p90Ms = "p90_ms", minMs = "min_ms"
        case meanMs = "mean_ms", threads, warmup, isa, model
    }

    init(latencies: [Double], statistics: LatencyStatistics, threads: Int, warmup: Int, isa: String, model: String) {
        latenciesMs = latencies
        medianMs = statistics.median
        p90Ms = statistics.p90
        minMs = statistics.min
        meanMs = statistics.mean
        self.threads = threads
        self.warmup = warmup
        self.isa = isa
        self.model = model
    }

    /// Pretty-printed JSON with sorted keys and a final newline.
    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try encoder.encode(self)) + [0x0A]
    }
}
