import ArgumentParser
import Sparrow

/// `sparrow inspect`: what a model holds and what it costs, layer by layer.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a model's layers with shapes, parameters, encodings, weight bytes and MACs.",
        discussion: """
            Plans the model for the given input shapes (or its own fixed shapes) and prints one row per node, \
            then totals (parameters, weight bytes, MACs per run, file size, activation arena) and the model's \
            metadata. A model with symbolic input dimensions needs --input-shape for shapes, MACs and memory.
            """)

    @Argument(help: "The model: a .sparrow file, or an .onnx file (converted in memory).")
    var model: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Option(name: .customLong("input-shape"), help: ArgumentHelp(
        "Plan for this input shape, e.g. input=1x3x224x224 (repeat for each symbolic input).", valueName: "name=dims"))
    var inputShapes: [String] = []

    func run() throws {
        let given = try InputShapes.parseAll(inputShapes)
        var missing: [InputSignature] = []
        let (model, shapes) = try ModelLoader.load(self.model) { signatures in
            try ModelLoader.check(given, against: signatures)
            missing = signatures.filter { given[$0.name] == nil && ($0.shape == nil || !$0.symbolicDimensions.isEmpty) }
            return given
        }
        let report: InspectReport
        if missing.isEmpty {
            let session = try Session(model: model, threads: 1, inputShapes: shapes)
            report = InspectReport(path: self.model, session: session, plannedShapes: shapes)
        } else {
            report = InspectReport(path: self.model, model: model, missing: missing)
        }
        if json {
            print(try report.json())
        } else {
            report.lines().forEach { print($0) }
        }
    }
}
