import ArgumentParser
import Foundation
import SparrowConvert

/// `sparrow convert`: ONNX → `.sparrow`.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert an ONNX model to a .sparrow file.",
        discussion: """
            Imports the ONNX graph, folds constants, lowers it to Sparrow's operators and writes the file \
            atomically (a failed conversion leaves no partial file). Prints what each stage did and the size \
            of the result.

            Pruning: --prune zeroes the smallest-magnitude weights of Conv, Gemm and MatMul layers after \
            BatchNorm folding; weights with enough zeros (pruned here or already in the ONNX file) are stored \
            as CSR or COO, chosen per layer (docs/SPARSE.md). A table of every prunable layer follows the stage \
            lines when pruning is asked for or some weight is stored sparse.

            Structured pruning (docs/SPARSE.md): --prune-channels removes the output channels of smallest L1 \
            norm from every Conv whose channels can be followed; --prune-blocks removes the residual blocks \
            whose loss changes the output least. --sensitivity measures each layer pruned alone, and \
            --prune-target-fidelity picks per-layer sparsities that keep the output's cosine similarity above a \
            target. The last three run candidate models on --calibration inputs (or seeded random ones). For a \
            model with a symbolic batch, give --input-shape (e.g. input=1x3x224x224) so that shapes are known.
            """)

    @Argument(help: "The ONNX model to convert.")
    var input: String

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp(
        "The .sparrow file to write (default: the input path with the extension .sparrow).", valueName: "path"))
    var output: String?

    @Option(name: .customLong("input-shape"), help: ArgumentHelp(
        "Fix a symbolic input shape, e.g. input=1x3x224x224 (repeat for several inputs).", valueName: "name=dims"))
    var inputShapes: [String] = []

    @Option(name: .customLong("prune"), help: ArgumentHelp(
        "Zero this fraction of each prunable layer's weights, smallest magnitudes first (0 ≤ fraction < 1, "
            + "e.g. 0.9).", valueName: "fraction"))
    var prune: Double?

    @Option(name: .customLong("prune-scope"), help: ArgumentHelp(
        "layer: the same fraction in every layer; global: one magnitude threshold over all pruned layers.",
        valueName: "global|layer"))
    var pruneScope = "layer"

    @Option(name: .customLong("prune-skip"), help: ArgumentHelp(
        "Layers --prune leaves dense: a comma-separated list of first, last (the first and last Conv/Gemm/MatMul) "
            + "and depthwise, or none.", valueName: "list"))
    var pruneSkip = "first,last,depthwise"

    @Option(name: .customLong("prune-layer"), help: ArgumentHelp(
        "Prune the node NAME to FRACTION, whatever --prune and --prune-skip say (repeat for several layers).",
        valueName: "name=fraction"))
    var pruneLayers: [String] = []

    @Option(name: .customLong("sparse-format"), help: ArgumentHelp(
        "Storage of weights with zeros: auto (per layer, from the crossover table), or csr, coo or dense for all.",
        valueName: "auto|csr|coo|dense"))
    var sparseFormat = "auto"

    @Option(name: .customLong("prune-channels"), help: ArgumentHelp(
        "Remove this fraction of the output channels of every Conv whose channels can be followed, smallest L1 "
            + "norm first (0 ≤ fraction < 1, e.g. 0.3); with a symbolic batch, also give --input-shape.",
        valueName: "fraction"))
    var pruneChannels: Double?

    @Option(name: .customLong("prune-channels-report"), help: ArgumentHelp(
        "Write what --prune-channels removed as JSON to this file.", valueName: "path"))
    var pruneChannelsReport: String?

    @Option(name: .customLong("prune-blocks"), help: ArgumentHelp(
        "Remove this many residual blocks (identity shortcuts), chosen greedily by output fidelity on the "
            + "calibration inputs; with a symbolic batch, also give --input-shape.", valueName: "n"))
    var pruneBlocks: Int?

    @Option(name: .customLong("prune-blocks-report"), help: ArgumentHelp(
        "Write the scores and choices of --prune-blocks as JSON to this file.", valueName: "path"))
    var pruneBlocksReport: String?

    @Flag(name: .customLong("sensitivity"), help: ArgumentHelp(
        "Print each prunable layer's output cosine similarity and top-1 agreement when it alone is pruned to "
            + "50, 70, 90 and 95 %."))
    var sensitivity = false

    @Option(name: .customLong("prune-target-fidelity"), help: ArgumentHelp(
        "Magnitude-prune each layer as far as keeps the output cosine similarity at or above this (0 < c ≤ 1, "
            + "e.g. 0.99), from the sensitivity table.", valueName: "cosine"))
    var pruneTargetFidelity: Double?

    @Option(name: .customLong("calibration"), help: ArgumentHelp(
        "A directory of .npy inputs (one per file) for --prune-blocks, --sensitivity, --prune-target-fidelity "
            + "and --quantize (default: 8 seeded random N(0,1) inputs).", valueName: "dir"))
    var calibration: String?

    @Option(name: .customLong("quantize"), help: ArgumentHelp(
        "Quantize weights: int8-weights (int8 codes with one symmetric scale per output channel, f32 activations "
            + "and arithmetic; composes with pruning). Reports per-layer SQNR and the fidelity against f32 on "
            + "--calibration inputs.", valueName: "mode"))
    var quantize: String?

    @Option(name: .customLong("export-masked-onnx"), help: ArgumentHelp(
        "Also write the source ONNX model with the weights pruned here set to zero at the same positions (the "
            + "pruned model for ONNX Runtime; docs/SPARSE.md).", valueName: "path"))
    var exportMaskedONNX: String?

    /// The conversion options from the arguments.
    /// - Throws: `CLIError` for a malformed shape, fraction, scope, skip list, layer override or format, and for
    ///   the structured-pruning options (`addStructuredPruning`).
    func convertOptions() throws -> ConvertOptions {
        var options = ConvertOptions(
            inputShapes: try InputShapes.parseAll(inputShapes),
            prune: try prune.map { try PruneArguments.fraction($0, option: "--prune") },
            pruneScope: try PruneArguments.scope(pruneScope),
            pruneSkip: try PruneArguments.skip(pruneSkip),
            pruneLayers: try PruneArguments.layers(pruneLayers),
            sparseFormat: try PruneArguments.format(sparseFormat))
        try addStructuredPruning(to: &options)
        if let quantize {
            guard let mode = QuantizeMode(rawValue: quantize) else {
                let modes = QuantizeMode.allCases.map(\.rawValue).joined(separator: ", ")
                throw CLIError("--quantize \(quantize) is not a mode; modes: \(modes)")
            }
            options.quantize = mode
        }
        return options
    }

    func run() throws {
        let options = try convertOptions()
        let destination = output ?? ConvertCommand.defaultOutputPath(for: input)
        guard destination != input else { throw CLIError("the output path \(destination) is the input itself") }
        try checkMaskedONNXPath(destination: destination)
        let result = try convertShowingProgress(options)
        let masked = try maskedONNX(result)
        try AtomicFile.write(result.bytes, to: destination)
        result.report.lines.forEach { print($0) }
        ConvertCommand.structuredPruningLines(result.report).forEach { print($0) }
        if result.report.pruning.isWorthShowing {
            print("")
            PruningTable.render(result.report.pruning).forEach { print($0) }
        }
        if let quantization = result.report.quantization {
            print("")
            QuantizationTable.render(quantization).forEach { print($0) }
        }
        print("wrote \(destination) (\(Formatting.bytes(result.bytes.count)), "
            + "\(Formatting.grouped(result.bytes.count)) bytes)")
        try writeStructuredPruningReports(result.report)
        try writeMaskedONNX(masked)
    }

    /// `dir/model.onnx` → `dir/model.sparrow`.
    static func defaultOutputPath(for input: String) -> String {
        let name = input as NSString
        let base = name.pathExtension.lowercased() == "onnx" ? name.deletingPathExtension : input
        return base + ".sparrow"
    }
}
