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
            """)

    @Argument(help: "The ONNX model to convert.")
    var input: String

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp(
        "The .sparrow file to write (default: the input path with the extension .sparrow).", valueName: "path"))
    var output: String?

    @Option(name: .customLong("input-shape"), help: ArgumentHelp(
        "Fix a symbolic input shape, e.g. input=1x3x224x224 (repeat for several inputs).", valueName: "name=dims"))
    var inputShapes: [String] = []

    func run() throws {
        let shapes = try InputShapes.parseAll(inputShapes)
        let destination = output ?? ConvertCommand.defaultOutputPath(for: input)
        guard destination != input else { throw CLIError("the output path \(destination) is the input itself") }
        let result = try Converter.convert(onnxAt: input, options: ConvertOptions(inputShapes: shapes))
        try AtomicFile.write(result.bytes, to: destination)
        result.report.lines.forEach { print($0) }
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
