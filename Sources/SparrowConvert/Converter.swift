import Foundation
import Sparrow

/// Options of one conversion.
public struct ConvertOptions: Sendable {
    /// Fixes symbolic input dimensions at conversion (`--input-shape NAME=1x3x224x224`).
    public var inputShapes: [String: [Int]] = [:]
    /// Fraction of the weights of every prunable layer to zero by magnitude, in [0, 1) (`--prune`); `nil` prunes
    /// nothing but the layers named in `pruneLayers`. Prunable layers: Conv, Gemm and MatMul with a float32
    /// constant weight (docs/SPARSE.md).
    public var prune: Double?
    /// One magnitude threshold over all pruned layers, or the same fraction per layer (`--prune-scope`).
    public var pruneScope: PruneScope = .layer
    /// Layers `prune` leaves dense (`--prune-skip`); `pruneLayers` overrides it.
    public var pruneSkip: Set<PruneSkip> = PruneSkip.defaults
    /// Fraction per layer by node name, in [0, 1), overriding `prune`, the scope and the skips for that layer
    /// (`--prune-layer NAME=FRACTION`).
    public var pruneLayers: [String: Double] = [:]
    /// Storage of prunable weights that have zeros (`--sparse-format`).
    public var sparseFormat: SparseFormat = .auto
    /// Fraction of the output channels to remove from every Conv whose channels can be followed, in [0, 1)
    /// (`--prune-channels`, `ChannelPruning`).
    public var pruneChannels: Double?
    /// Residual blocks to remove, at least 1, chosen by output fidelity on the calibration samples
    /// (`--prune-blocks`, `BlockPruning`).
    public var pruneBlocks: Int?
    /// Measure every prunable layer's sensitivity to magnitude pruning (`--sensitivity`, `SensitivityAnalysis`);
    /// changes nothing in the model.
    public var sensitivity = false
    /// Magnitude-prune each layer as far as keeps the model's output cosine similarity at or above this, in
    /// (0, 1] (`--prune-target-fidelity`, `FidelityTarget`); implies `sensitivity`, excludes `prune` and
    /// `pruneLayers`.
    public var pruneTargetFidelity: Double?
    /// A directory of `.npy` inputs for the steps that measure fidelity (`--calibration`); `nil`: seeded random
    /// inputs (`Calibration`).
    public var calibrationDirectory: String?
    /// Weight quantization (`--quantize`, `WeightQuantizationPlan`); after pruning, so it composes with it.
    public var quantize: QuantizeMode?

    public init(inputShapes: [String: [Int]] = [:], prune: Double? = nil, pruneScope: PruneScope = .layer,
                pruneSkip: Set<PruneSkip> = PruneSkip.defaults, pruneLayers: [String: Double] = [:],
                sparseFormat: SparseFormat = .auto, pruneChannels: Double? = nil, pruneBlocks: Int? = nil,
                sensitivity: Bool = false, pruneTargetFidelity: Double? = nil, calibrationDirectory: String? = nil,
                quantize: QuantizeMode? = nil) {
        self.inputShapes = inputShapes
        self.prune = prune
        self.pruneScope = pruneScope
        self.pruneSkip = pruneSkip
        self.pruneLayers = pruneLayers
        self.sparseFormat = sparseFormat
        self.pruneChannels = pruneChannels
        self.pruneBlocks = pruneBlocks
        self.sensitivity = sensitivity
        self.pruneTargetFidelity = pruneTargetFidelity
        self.calibrationDirectory = calibrationDirectory
        self.quantize = quantize
    }

    /// The options as written into the file's `convert.options` metadata.
    public var summary: String {
        let shapes = inputShapes.keys.sorted().map { name in
            "input-shape=\(name)=" + inputShapes[name]!.map(String.init).joined(separator: "x")
        }
        return (shapes + pruningSummary + (quantize.map { ["quantize=\($0.rawValue)"] } ?? [])).joined(separator: " ")
    }
}

/// What a conversion did, stage by stage, for the report printed after `sparrow convert`.
public struct ConversionReport: Sendable {
    public struct Stage: Sendable {
        public let name: String
        public let nodesBefore: Int
        public let nodesAfter: Int
        public let seconds: Double
    }

    public var sourceName: String
    public var sourceBytes: Int
    public var stages: [Stage] = []
    public var foldedNodes = 0
    public var outputBytes = 0
    public var weightBytes = 0
    public var nodeCount = 0
    /// Prunable weights: sparsity, encoding and bytes of each (`PruningReport.isWorthShowing` tells whether to
    /// print it).
    public var pruning = PruningReport()
    /// What `--prune-channels` removed.
    public var channelPruning: ChannelPruningReport?
    /// What `--prune-blocks` scored and removed.
    public var blockPruning: BlockPruningReport?
    /// The table of `--sensitivity` (and the choice of `--prune-target-fidelity`).
    public var sensitivity: SensitivityReport?
    /// What `--quantize` stored as int8, and the fidelity it cost.
    public var quantization: QuantizationReport?

    /// Human-readable lines of the stages and the result; the pruning table is printed apart from them.
    public var lines: [String] {
        var result = ["converted \(sourceName) (\(sourceBytes) bytes)"]
        for stage in stages {
            let name = stage.name.padding(toLength: 26, withPad: " ", startingAt: 0)
            result.append("  " + name + String(format: " %4d → %4d nodes  %7.1f ms", stage.nodesBefore,
                                               stage.nodesAfter, stage.seconds * 1000))
        }
        result.append("  constants folded: \(foldedNodes) nodes")
        result.append("  result: \(nodeCount) nodes, \(weightBytes) weight bytes, file \(outputBytes) bytes")
        return result
    }
}

/// The bytes of a converted model and the report.
public struct ConversionResult: Sendable {
    public let bytes: [UInt8]
    public let report: ConversionReport
    /// The positions pruning zeroed, per weight (for `MaskedONNXExport`).
    public var pruningMasks = PruningMasks()
}

/// ONNX → `.sparrow`: import, passes, lowering, writing.
public enum Converter {
    public static let version = "0.1.0"

    /// Converts an ONNX file.
    /// - Throws: `ConvertError` (bad ONNX, unsupported ops listed by node, bad options) or `SparrowError` from
    ///   planning the converted graph.
    /// - Parameter progress: Called after every candidate model the pruning steps evaluate.
    public static func convert(onnxAt path: String, options: ConvertOptions = ConvertOptions(),
                               progress: PruningProgressHandler? = nil) throws -> ConversionResult {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConvertError.io("cannot read \(path)")
        }
        let bytes = [UInt8](data)
        let directory = (path as NSString).deletingLastPathComponent
        var graph = try ONNXImporter.load(bytes: bytes, baseDirectory: directory.isEmpty ? "." : directory)
        return try convert(graph: &graph, sourceName: (path as NSString).lastPathComponent,
                           sourceSHA256: SHA256.hexDigest(bytes), sourceBytes: bytes.count, options: options,
                           progress: progress)
    }

    /// Converts an imported graph.
    /// - Parameters:
    ///   - transform: Runs on the graph after the pass pipeline, before pruning and lowering (e.g.
    ///     `ChannelPruning.mask` to build a masked reference model); shapes are inferred again after it.
    ///   - progress: Called after every candidate model the pruning steps evaluate (`--prune-blocks`,
    ///     `--sensitivity`, `--prune-target-fidelity`).
    public static func convert(graph: inout IRGraph, sourceName: String, sourceSHA256: String, sourceBytes: Int,
                               options: ConvertOptions, transform: ((inout IRGraph) throws -> Void)? = nil,
                               progress: PruningProgressHandler? = nil) throws -> ConversionResult {
        try applyInputShapes(options.inputShapes, to: &graph)
        try options.validatePruningFractions()
        var report = ConversionReport(sourceName: sourceName, sourceBytes: sourceBytes)
        var inferred: [String: (DType, [Int])] = [:]
        let folding = PassPipeline.Stage(name: "fold-constants") { graph in
            // Lowering for the planner needs known op kinds: list every unsupported op first, in one error.
            try SupportedOps().run(&graph)
            let result = try ConstantFoldingPass(inputShapes: options.inputShapes).run(&graph)
            report.foldedNodes += result.foldedNodes
            inferred = result.inferredTypes
        }
        let pipeline = PassPipeline.standard(constantFolding: folding)
        for stage in pipeline.stages {
            let before = graph.nodes.count
            let start = Date()
            try stage.body(&graph)
            report.stages.append(.init(name: stage.name, nodesBefore: before, nodesAfter: graph.nodes.count,
                                       seconds: Date().timeIntervalSince(start)))
        }
        // What pruning changed is measured against this copy (copy-on-write: only replaced weights cost memory).
        let unpruned = graph
        if let transform {
            try transform(&graph)
            inferred = try ConstantFoldingPass(inputShapes: options.inputShapes).run(&graph).inferredTypes
        }
        // Structured pruning changes shapes, so it comes before magnitude pruning; blocks go before channels, so
        // that channel pruning analyses the graph that is left.
        let calibration = options.needsCalibration
            ? try Calibration.load(directory: options.calibrationDirectory, graph: graph) : nil
        if let count = options.pruneBlocks, let calibration {
            let start = Date(), before = graph.nodes.count
            report.blockPruning = try BlockPruning.apply(to: &graph, count: count, calibration: calibration,
                                                         inputShapes: options.inputShapes, progress: progress)
            inferred = try ConstantFoldingPass(inputShapes: options.inputShapes).run(&graph).inferredTypes
            report.stages.append(.init(name: "prune-blocks", nodesBefore: before, nodesAfter: graph.nodes.count,
                                       seconds: Date().timeIntervalSince(start)))
        }
        if let fraction = options.pruneChannels {
            let start = Date(), before = graph.nodes.count
            report.channelPruning = try ChannelPruning.apply(to: &graph, fraction: fraction, inputShapes: options.inputShapes)
            inferred = try ConstantFoldingPass(inputShapes: options.inputShapes).run(&graph).inferredTypes
            report.stages.append(.init(name: "prune-channels", nodesBefore: before, nodesAfter: graph.nodes.count,
                                       seconds: Date().timeIntervalSince(start)))
        }
        var magnitude = options
        if let calibration, options.sensitivity || options.pruneTargetFidelity != nil {
            let start = Date()
            (report.sensitivity, magnitude) = try sensitivity(of: graph, options: options, calibration: calibration,
                                                              progress: progress)
            report.stages.append(.init(name: "sensitivity", nodesBefore: graph.nodes.count,
                                       nodesAfter: graph.nodes.count, seconds: Date().timeIntervalSince(start)))
        }
        // After the pipeline, so that magnitudes are those of the BatchNorm-folded weights.
        let pruneStart = Date()
        let sparsity = try SparsityPlanner.run(&graph, options: magnitude)
        if magnitude.requestsPruning {
            report.stages.append(.init(name: "magnitude-prune", nodesBefore: graph.nodes.count,
                                       nodesAfter: graph.nodes.count, seconds: Date().timeIntervalSince(pruneStart)))
        }
        report.pruning = sparsity.report
        var int8Weights: [String: Int8Weights] = [:]
        if options.quantize == .int8Weights {
            let start = Date()
            let plan = WeightQuantizationPlan(graph, encodings: sparsity.encodings)
            let samples = try calibration
                ?? Calibration.load(directory: options.calibrationDirectory, graph: graph)
            var evaluator = try FidelityEvaluator(reference: graph, calibration: samples)
            var quantization = plan.report
            quantization.fidelity = try evaluator.measure(plan.dequantized(graph))
            quantization.samples = samples.source
            report.quantization = quantization
            int8Weights = plan.weights
            report.stages.append(.init(name: "quantize-int8-weights", nodesBefore: graph.nodes.count,
                                       nodesAfter: graph.nodes.count, seconds: Date().timeIntervalSince(start)))
        }
        // A QDQ model's weights keep their int8 codes where the initializer still holds exactly what they decode
        // to (no pass rescaled them) and the storage can take them (dense, or sparse with per-row scales).
        for (name, codes) in graph.int8Codes where int8Weights[name] == nil {
            let encoding = sparsity.encodings[name] ?? .dense
            guard encoding == .dense || codes.axis == 0,
                  let floats = graph.initializers[name]?.floatValues(),
                  floats.map(\.bitPattern) == codes.dequantized.map(\.bitPattern) else { continue }
            int8Weights[name] = codes
        }
        // Residual Adds fuse last: the structured-pruning steps above read them as blocks and channel ties. On a
        // copy, so that the pruning masks compare the same nodes before and after.
        var fused = graph
        let fuseStart = Date(), beforeFusion = fused.nodes.count
        try FuseResidualAddPass(types: inferred).run(&fused)
        try FuseActivationPass().run(&fused)
        report.stages.append(.init(name: "fuse-residual-add", nodesBefore: beforeFusion,
                                   nodesAfter: fused.nodes.count, seconds: Date().timeIntervalSince(fuseStart)))
        let (description, blobs) = try GraphLowering.lower(fused, inferredTypes: inferred,
                                                           weightEncodings: sparsity.encodings,
                                                           int8Weights: int8Weights)
        let metadata: [(key: String, value: String)] = [
            ("producer", "sparrow-convert"),
            ("producer.version", version),
            ("source.name", sourceName),
            ("source.sha256", sourceSHA256),
            ("source.opset", String(graph.opsetVersion)),
            ("convert.options", options.summary),
        ]
        let bytes = ModelFileWriter.encode(graph: description, blobs: blobs, metadata: metadata)
        report.outputBytes = bytes.count
        report.weightBytes = blobs.bytes.count
        report.nodeCount = description.nodes.count
        return ConversionResult(bytes: bytes, report: report,
                                pruningMasks: PruningMasks(before: unpruned, after: graph))
    }

    /// Replaces symbolic input dimensions by the given sizes, checking rank and fixed sizes.
    static func applyInputShapes(_ shapes: [String: [Int]], to graph: inout IRGraph) throws {
        for (name, shape) in shapes {
            guard let index = graph.inputs.firstIndex(where: { $0.name == name }) else {
                let names = graph.inputs.map(\.name).joined(separator: ", ")
                throw ConvertError.invalidArgument("--input-shape names '\(name)', but the inputs are: \(names)")
            }
            if let declared = graph.inputs[index].shape {
                guard declared.count == shape.count else {
                    throw ConvertError.invalidArgument("input '\(name)' has rank \(declared.count), --input-shape gives \(shape)")
                }
                for (dim, size) in zip(declared, shape) {
                    if case .fixed(let fixed) = dim, fixed != size {
                        throw ConvertError.invalidArgument("input '\(name)' has fixed shape \(declared), --input-shape gives \(shape)")
                    }
                }
            }
            guard shape.allSatisfy({ $0 >= 0 }) else {
                throw ConvertError.invalidArgument("--input-shape for '\(name)' has a negative size")
            }
            graph.inputs[index].shape = shape.map { .fixed($0) }
        }
    }
}
