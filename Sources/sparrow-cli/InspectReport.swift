import Foundation
import Sparrow

/// What `sparrow inspect` shows: the graph's inputs and outputs, one row per node, totals and metadata. The text
/// table and the `--json` document hold the same fields.
struct InspectReport: Encodable {
    struct Value: Encodable {
        let name: String
        let dtype: String
        /// Declared shape, symbols included: `Nx3x224x224`.
        let shape: String
        /// The concrete shape the session was planned for.
        let plannedShape: [Int]?
    }

    struct Layer: Encodable {
        let name: String
        let op: String
        /// Shapes of the inputs computed at run time (constants are counted in `parameters`).
        let inputShapes: [[Int]]?
        /// Shapes of the constant inputs (weights, biases).
        let constantShapes: [[Int]]?
        let outputShapes: [[Int]]?
        let parameters: Int?
        let encoding: String?
        let weightBytes: Int?
        let macs: Int?
        /// Evaluated once at plan time, free per run.
        let folded: Bool?
    }

    struct Totals: Encodable {
        let nodes: Int
        let nodesPerRun: Int?
        /// Elements of all constant tensors (each counted once, even if several nodes use it).
        let parameters: Int
        let weightBytes: Int
        let macsPerRun: Int?
        let fileBytes: Int
        let arenaBytes: Int?
        let workspaceBytes: Int?
        /// What the arena would take without buffer reuse.
        let unsharedActivationBytes: Int?
    }

    struct MetadataEntry: Encodable {
        let key: String
        let value: String
    }

    let model: String
    let inputs: [Value]
    let outputs: [Value]
    /// Why the layers have no shapes (symbolic input dimensions without `--input-shape`).
    let note: String?
    let layers: [Layer]
    let totals: Totals
    let metadata: [MetadataEntry]

    /// The report of a planned session.
    init(path: String, session: Session, plannedShapes: [String: [Int]]) {
        let model = session.model
        let graph = model.graph
        let summaries = session.layerSummaries()
        // Summaries follow the graph's node order; split their input shapes into computed and constant ones.
        let aligned = summaries.count == graph.nodes.count
            && zip(summaries, graph.nodes).allSatisfy { $0.name == $1.name }
        let layers = summaries.enumerated().map { index, summary in
            var computed: [[Int]] = [], constant: [[Int]] = []
            var op = summary.op.name
            if aligned {
                op = OpLabel.label(graph.nodes[index])
                for (input, shape) in zip(graph.nodes[index].inputs, summary.inputShapes) {
                    guard let input else { continue }
                    if graph.tensors[input].storage == nil { computed.append(shape) } else { constant.append(shape) }
                }
            } else {
                computed = summary.inputShapes
            }
            return Layer(name: summary.name, op: op, inputShapes: computed, constantShapes: constant,
                         outputShapes: summary.outputShapes, parameters: summary.parameters,
                         encoding: summary.encoding, weightBytes: summary.weightBytes, macs: summary.macs,
                         folded: summary.folded)
        }
        let running = summaries.filter { !$0.folded }
        self.init(path: path, model: model, layers: layers, note: nil,
                  inputShapes: model.inputs.map { plannedShapes[$0.name] ?? $0.shape.compactMap(\.fixedValue) },
                  outputShapes: session.outputShapes,
                  nodesPerRun: running.count, macsPerRun: running.reduce(0) { $0 + $1.macs },
                  arena: (session.arenaBytes, session.workspaceBytes, session.unsharedActivationBytes))
    }

    /// The report of a model that could not be planned: nodes without shapes, and a note saying which input
    /// shapes are needed.
    init(path: String, model: Model, missing: [InputSignature]) {
        let needed = missing.map { signature in
            let example = (signature.shape ?? []).map { $0.fixedValue.map(String.init) ?? "<\($0)>" }
                .joined(separator: "x")
            return "--input-shape \(signature.name)=\(example.isEmpty ? "DIMS" : example)"
        }
        let reasons = missing.map { signature in
            "input '\(signature.name)' has "
                + (signature.shape == nil ? "no declared shape"
                   : "symbolic dimensions " + signature.symbolicDimensions.joined(separator: ", "))
        }
        let note = "not planned: " + reasons.joined(separator: "; ") + "; pass " + needed.joined(separator: " ")
            + " for shapes, MACs and memory"
        let layers = model.graph.nodes.map {
            Layer(name: $0.name, op: OpLabel.label($0), inputShapes: nil, constantShapes: nil, outputShapes: nil,
                  parameters: nil, encoding: nil, weightBytes: nil, macs: nil, folded: nil)
        }
        self.init(path: path, model: model, layers: layers, note: note, inputShapes: nil, outputShapes: nil,
                  nodesPerRun: nil, macsPerRun: nil, arena: nil)
    }

    private init(path: String, model: Model, layers: [Layer], note: String?, inputShapes: [[Int]]?,
                 outputShapes: [[Int]]?, nodesPerRun: Int?, macsPerRun: Int?,
                 arena: (bytes: Int, workspace: Int, unshared: Int)?) {
        func values(_ infos: [TensorInfo], _ planned: [[Int]]?) -> [Value] {
            infos.enumerated().map { index, info in
                Value(name: info.name, dtype: info.dtype.description,
                      shape: info.shape.isEmpty ? "scalar" : info.shape.map(\.description).joined(separator: "x"),
                      plannedShape: planned.flatMap { index < $0.count ? $0[index] : nil })
            }
        }
        self.model = path
        inputs = values(model.inputs, inputShapes)
        outputs = values(model.outputs, outputShapes)
        self.note = note
        self.layers = layers
        let constants = model.graph.tensors.compactMap { tensor in
            tensor.storage.map { storage in
                (count: tensor.fixedShape?.reduce(1, *) ?? 0, bytes: storage.blobs.reduce(0) { $0 + $1.length })
            }
        }
        totals = Totals(nodes: model.graph.nodes.count, nodesPerRun: nodesPerRun,
                        parameters: constants.reduce(0) { $0 + $1.count },
                        weightBytes: constants.reduce(0) { $0 + $1.bytes }, macsPerRun: macsPerRun,
                        fileBytes: model.fileSize, arenaBytes: arena?.bytes, workspaceBytes: arena?.workspace,
                        unsharedActivationBytes: arena?.unshared)
        metadata = model.metadata.map { MetadataEntry(key: $0.key, value: $0.value) }
    }

    /// The JSON document (keys in snake case, sorted).
    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The text report: header, layer table, totals, metadata.
    func lines() -> [String] {
        var lines = ["model:   \(model) (\(Formatting.bytes(totals.fileBytes)))",
                     "inputs:  " + InspectReport.describe(inputs),
                     "outputs: " + InspectReport.describe(outputs)]
        if let note { lines.append(note) }
        lines.append("")
        lines += layerTable()
        if layers.contains(where: { $0.folded == true }) { lines.append("* folded at plan time: no cost per run") }
        lines.append("")
        lines.append("totals:")
        lines += totalLines().map { "  " + $0 }
        if !metadata.isEmpty {
            lines.append("")
            lines.append("metadata:")
            let width = metadata.map(\.key.count).max() ?? 0
            lines += metadata.map { "  " + $0.key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.value }
        }
        return lines
    }

    /// One row per node; zero counts show as `-`, unknown ones (unplanned) stay empty.
    func layerTable() -> [String] {
        func shapes(_ list: [[Int]]?) -> String { list?.map(InputShapes.format).joined(separator: ", ") ?? "" }
        func number(_ value: Int?, _ format: (Int) -> String) -> String {
            value.map { $0 == 0 ? "-" : format($0) } ?? ""
        }
        var table = TextTable([.init("name"), .init("op"), .init("input shape"), .init("output shape"),
                               .init("params", .right), .init("encoding"), .init("bytes", .right),
                               .init("MACs", .right)])
        for layer in layers {
            table.append([layer.name, layer.op + (layer.folded == true ? "*" : ""), shapes(layer.inputShapes),
                          shapes(layer.outputShapes), number(layer.parameters, Formatting.compact),
                          layer.encoding.map { $0 == "—" ? "-" : $0 } ?? "",
                          number(layer.weightBytes, Formatting.bytes), number(layer.macs, Formatting.compact)])
        }
        return table.render()
    }

    private func totalLines() -> [String] {
        // Compact figures, with the exact count beside them when the suffix rounded it.
        func count(_ value: Int) -> String {
            value < 1000 ? String(value) : "\(Formatting.compact(value)) (\(Formatting.grouped(value)))"
        }
        var lines = ["nodes    \(totals.nodes)" + (totals.nodesPerRun.map { " (\($0) run per inference)" } ?? ""),
                     "params   " + count(totals.parameters),
                     "weights  \(Formatting.bytes(totals.weightBytes)) (\(Formatting.grouped(totals.weightBytes)) bytes)"]
        if let macs = totals.macsPerRun { lines.append("MACs     " + count(macs) + " per run") }
        lines.append("file     \(Formatting.bytes(totals.fileBytes)) (\(Formatting.grouped(totals.fileBytes)) bytes)")
        if let arena = totals.arenaBytes, let workspace = totals.workspaceBytes,
           let unshared = totals.unsharedActivationBytes {
            lines.append("arena    \(Formatting.bytes(arena)) + workspace \(Formatting.bytes(workspace)) "
                + "(activations without reuse: \(Formatting.bytes(unshared)))")
        }
        return lines
    }

    /// `x (f32, Nx1x8x8 → 1x1x8x8), …`
    private static func describe(_ values: [Value]) -> String {
        values.map { value in
            // The arrow shows what planning resolved; a fixed declared shape needs none.
            let planned = value.plannedShape.map(InputShapes.format).flatMap { $0 == value.shape ? nil : " → " + $0 } ?? ""
            return "\(value.name) (\(value.dtype), \(value.shape)\(planned))"
        }.joined(separator: ", ")
    }
}
