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

    /// The conversion options from the arguments.
    /// - Throws: `CLIError` for a malformed shape, fraction, scope, skip list, layer override or format.
    func convertOptions() throws -> ConvertOptions {
        ConvertOptions(
            inputShapes: try InputShapes.parseAll(inputShapes),
            prune: try prune.map { try PruneArguments.fraction($0, option: "--prune") },
            pruneScope: try PruneArguments.scope(pruneScope),
            pruneSkip: try PruneArguments.skip(pruneSkip),
            pruneLayers: try PruneArguments.layers(pruneLayers),
            sparseFormat: try PruneArguments.format(sparseFormat))
    }

    func run() throws {
        let options = try convertOptions()
        let destination = output ?? ConvertCommand.defaultOutputPath(for: input)
        guard destination != input else { throw CLIError("the output path \(destination) is the input itself") }
        let result = try Converter.convert(onnxAt: input, options: options)
        try AtomicFile.write(result.bytes, to: destination)
        result.report.lines.forEach { print($0) }
        if result.report.pruning.isWorthShowing {
            print("")
            PruningTable.render(result.report.pruning).forEach { print($0) }
        }
        print("wrote \(destination) (\(Formatting.bytes(result.bytes.count)), "
            + "\(Formatting.grouped(result.bytes.count)) bytes)")
    }

    /// `dir/model.onnx` → `dir/model.sparrow`.
    static func defaultOutputPath(for input: String) -> String {
        let name = input as NSString
        let base = name.pathExtension.lowercased() == "onnx" ? name.deletingPathExtension : input
        return base + ".sparrow"
    }
}
