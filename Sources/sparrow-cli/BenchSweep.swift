import Foundation
import Sparrow
import SparrowConvert

/// `sparrow bench --sweep MODEL.onnx`: converts the variants of `SweepVariant.all`, measures their fidelity
/// against the dense one, times them in interleaved rounds and writes the reports.
struct BenchSweep {
    /// A variant converted, written and planned, with what the rounds measure.
    final class Candidate {
        let variant: SweepVariant
        let path: String
        let conversion: ConversionReport
        let convertSeconds: Double
        let loadSeconds: Double
        let planSeconds: Double
        let session: Session
        var outputs: [Tensor]
        var latencies: [Double] = []
        var roundMedians: [Double] = []
        var timedSeconds = 0.0
        var fidelity: Fidelity?
        var accuracy: SweepReport.Accuracy?

        init(variant: SweepVariant, path: String, conversion: ConversionReport, convertSeconds: Double,
             loadSeconds: Double, planSeconds: Double, session: Session, outputs: [Tensor]) {
            self.variant = variant
            self.path = path
            self.conversion = conversion
            self.convertSeconds = convertSeconds
            self.loadSeconds = loadSeconds
            self.planSeconds = planSeconds
            self.session = session
            self.outputs = outputs
        }
    }

    let command: BenchCommand
    let variants: [SweepVariant]
    let outputDirectory: String
    let rounds: Int
    let runs: Int

    /// - Throws: `ValidationError` for malformed lists (already checked by `BenchCommand.validate`).
    init(_ command: BenchCommand) throws {
        self.command = command
        variants = SweepVariant.all(sparsities: try command.sweep.sparsityList(),
                                    channelFractions: try command.sweep.channelFractionList())
        outputDirectory = command.sweep.out ?? BenchSweep.defaultOutputDirectory(for: command.model)
        rounds = command.sweep.rounds ?? SweepArguments.defaultRounds
        runs = command.runs ?? SweepArguments.defaultRuns
    }

    /// `models/resnet50.onnx` → `sweep-resnet50`.
    static func defaultOutputDirectory(for model: String) -> String {
        "sweep-" + ((model as NSString).lastPathComponent as NSString).deletingPathExtension
    }

    func run() throws {
        let report = try measure()
        try write(report)
    }

    /// Converts, checks fidelity and times every variant this build can make.
    func measure() throws -> SweepReport {
        try createOutputDirectory()
        var graph = try ONNXImporter.load(contentsOf: command.model)
        let signatures = graph.inputs.filter { graph.initializers[$0.name] == nil }
            .map { InputSignature(name: $0.name, dtype: $0.dtype, shape: $0.shape) }
        let arrays = try command.inputs.map { (path: $0, array: try NpyArray(contentsOf: $0)) }
        let shapes = try arrays.isEmpty
            ? RandomInputs.shapes(given: try givenShapes(signatures), signatures: signatures)
            : ModelLoader.match(arrays, to: signatures)
        // Every variant is converted for the shapes it is timed at, as `bench MODEL.onnx` does: a symbolic batch
        // becomes concrete, and channel pruning can follow the shapes.
        for index in graph.inputs.indices {
            if let shape = shapes[graph.inputs[index].name] { graph.inputs[index].shape = shape.map { .fixed($0) } }
        }
        let calibration = try Calibration.load(directory: command.sweep.calibration, graph: graph)
        let orderedShapes = signatures.map { shapes[$0.name] ?? [] }
        let tensors = arrays.isEmpty ? try RandomInputs.tensors(orderedShapes, seed: command.seed ?? 0)
            : try arrays.map { try $0.array.tensor() }

        let bar = ProgressBar()
        defer { bar.finish() }
        let (candidates, failures) = try convert(graph, shapes: shapes, tensors: tensors, bar: bar)
        try measureFidelity(candidates, calibration: calibration, bar: bar)
        try time(candidates, tensors: tensors, bar: bar)

        let inputs = BenchCommand.describe(tensors, names: signatures.map(\.name), files: arrays.map(\.path))
        return try SweepReport(model: command.model, variants: variants, candidates: candidates, failures: failures,
                               shapes: shapes, inputs: inputs, seed: arrays.isEmpty ? command.seed ?? 0 : nil,
                               calibration: calibration,
                               settings: .init(threads: command.threads, rounds: rounds, runsPerRound: runs,
                                               warmupPerRound: command.warmup),
                               peakRSSBytes: ProcessMemory.peakResidentBytes())
    }

    /// `--input-shape`, or with `--calibration` and a symbolic input, the shape of the first calibration file
    /// (so that the samples fit the converted variants).
    private func givenShapes(_ signatures: [InputSignature]) throws -> [String: [Int]] {
        let given = try InputShapes.parseAll(command.inputShapes)
        guard given.isEmpty, let directory = command.sweep.calibration, signatures.count == 1,
              !signatures[0].symbolicDimensions.isEmpty else { return given }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        guard let first = names.filter({ $0.lowercased().hasSuffix(".npy")
                  && $0.lowercased() != Calibration.labelsFileName }).min() else { return given }
        let array = try NpyArray(contentsOf: (directory as NSString).appendingPathComponent(first))
        return signatures[0].accepts(array.shape) ? [signatures[0].name: array.shape] : given
    }

    private func createOutputDirectory() throws {
        do {
            try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        } catch {
            let reason = (error as NSError).localizedFailureReason ?? error.localizedDescription
            throw CLIError("cannot create the output directory \(outputDirectory): \(reason)")
        }
    }

    /// Converts each available variant from the imported graph, writes it atomically as `<name>.sparrow`, maps it
    /// and plans its session. A variant other than dense that fails is left out with its error, so that one
    /// compression the model does not take (say, no Conv whose channels can be followed) costs only its row.
    /// - Returns: The variants made, dense first, and the error message of each that failed, by name.
    /// - Throws: What converting, writing or planning the dense variant throws.
    private func convert(_ graph: IRGraph, shapes: [String: [Int]], tensors: [Tensor], bar: ProgressBar) throws
        -> (candidates: [Candidate], failures: [String: String]) {
        let sourceName = (command.model as NSString).lastPathComponent
        let sourceSHA256 = try SHA256.hexDigest(ofFileAtPath: command.model)
        let sourceBytes = (try? FileManager.default.attributesOfItem(atPath: command.model)[.size] as? Int) ?? 0
        let base = ConvertOptions(inputShapes: shapes)
        let available = variants.compactMap { variant -> (SweepVariant, ConvertOptions)? in
            guard case .options(let options) = variant.conversion(base: base) else { return nil }
            return (variant, options)
        }
        var candidates: [Candidate] = []
        var failures: [String: String] = [:]
        for (index, (variant, options)) in available.enumerated() {
            bar.update(PruningProgress(task: "convert", completed: index, total: available.count, item: variant.name))
            do {
                candidates.append(try make(variant, options: options, from: graph, shapes: shapes, tensors: tensors,
                                           source: (sourceName, sourceSHA256, sourceBytes)))
            } catch where variant.kind != .dense {
                failures[variant.name] = SparrowCommand.errorMessage(for: error)
            }
        }
        bar.update(PruningProgress(task: "convert", completed: available.count, total: available.count, item: ""))
        return (candidates, failures)
    }

    private func make(_ variant: SweepVariant, options: ConvertOptions, from graph: IRGraph, shapes: [String: [Int]],
                      tensors: [Tensor], source: (name: String, sha256: String, bytes: Int)) throws -> Candidate {
        var copy = graph
        let start = monotonicSeconds()
        let result = try Converter.convert(graph: &copy, sourceName: source.name, sourceSHA256: source.sha256,
                                           sourceBytes: source.bytes, options: options)
        let convertSeconds = monotonicSeconds() - start
        let path = (outputDirectory as NSString).appendingPathComponent(variant.name + ".sparrow")
        try AtomicFile.write(result.bytes, to: path)
        let loadStart = monotonicSeconds()
        let model = try Model(contentsOf: path)
        let planStart = monotonicSeconds()
        let session = try Session(model: model, threads: command.threads, inputShapes: shapes)
        let planSeconds = monotonicSeconds() - planStart
        return Candidate(variant: variant, path: path, conversion: result.report, convertSeconds: convertSeconds,
                         loadSeconds: planStart - loadStart, planSeconds: planSeconds, session: session,
                         outputs: try RunCommand.preallocatedOutputs(session, tensors))
    }

    /// Fidelity of every variant against the first (dense), and top-1 accuracy when there are labels.
    private func measureFidelity(_ candidates: [Candidate], calibration: Calibration, bar: ProgressBar) throws {
        guard let reference = candidates.first else { return }
        var referenceOutputs: CalibrationOutputs?
        for (index, candidate) in candidates.enumerated() {
            bar.update(PruningProgress(task: "fidelity", completed: index, total: candidates.count,
                                       item: candidate.variant.name))
            let outputs = try CalibrationOutputs(model: candidate.session.model, calibration: calibration,
                                                 threads: command.threads)
            if candidate === reference { referenceOutputs = outputs }
            candidate.fidelity = referenceOutputs.map(outputs.fidelity(against:))
            if let labels = calibration.labels {
                let (correct, total) = try outputs.top1Correct(labels: labels)
                candidate.accuracy = SweepReport.Accuracy(correct: correct, total: total)
            }
        }
        bar.update(PruningProgress(task: "fidelity", completed: candidates.count, total: candidates.count, item: ""))
    }

    /// `rounds` rounds; in each, every variant gets its warm-up and `runs` timed runs. Each round starts one
    /// variant later than the one before, so that no variant always runs first after the process was idle, and
    /// machine noise falls on all variants alike.
    private func time(_ candidates: [Candidate], tensors: [Tensor], bar: ProgressBar) throws {
        let total = rounds * candidates.count
        for round in 0..<rounds {
            for step in 0..<candidates.count {
                let candidate = candidates[(round + step) % candidates.count]
                bar.update(PruningProgress(task: "bench", completed: round * candidates.count + step, total: total,
                                           item: "round \(round + 1)/\(rounds): \(candidate.variant.name)"))
                for _ in 0..<command.warmup { try candidate.session.run(tensors, into: &candidate.outputs) }
                var block: [Double] = []
                block.reserveCapacity(runs)
                for _ in 0..<runs {
                    let start = monotonicSeconds()
                    try candidate.session.run(tensors, into: &candidate.outputs)
                    block.append((monotonicSeconds() - start) * 1000)
                }
                candidate.latencies += block
                candidate.timedSeconds += block.reduce(0, +) / 1000
                candidate.roundMedians.append(LatencyStatistics(block)?.median ?? 0)
            }
        }
        bar.update(PruningProgress(task: "bench", completed: total, total: total, item: ""))
    }

    /// Writes report.json, report.md and report.svg to the output directory and prints the Markdown.
    func write(_ report: SweepReport) throws {
        let markdown = report.markdown()
        markdown.forEach { print($0) }
        let files: [(String, [UInt8])] = [
            ("report.json", try report.json()),
            ("report.md", Array((markdown.joined(separator: "\n") + "\n").utf8)),
            ("report.svg", Array(report.chart().svg().utf8)),
        ]
        for (name, bytes) in files {
            let path = (outputDirectory as NSString).appendingPathComponent(name)
            try AtomicFile.write(bytes, to: path)
            standardError("wrote \(path)")
        }
    }
}
