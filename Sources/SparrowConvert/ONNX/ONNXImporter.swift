import Foundation
import Sparrow
import SwiftProtobuf

/// Reads an ONNX model into the converter's `IRGraph`.
///
/// The importer keeps ONNX semantics: it resolves where constant data lives (inline, typed fields or external
/// files), turns `Constant` nodes into initializers, maps element types to `DType` and checks that the graph is
/// well formed. Rewriting operators into the forms the runtime implements is the job of the passes
/// (`PassPipeline.standard`).
public enum ONNXImporter {
    /// Default-domain opsets the importer accepts. Opsets 7–10 use attribute forms that `CanonicalizePass`
    /// rewrites; 11–21 are the supported range.
    public static let supportedOpsets: ClosedRange<Int> = 7...21

    /// Loads an ONNX model file. External tensor data is resolved relative to the file's directory.
    /// - Parameter path: Path of the `.onnx` file.
    /// - Returns: The model's main graph.
    /// - Throws: `ConvertError.io` if the file cannot be read, otherwise the errors of `load(bytes:baseDirectory:)`.
    public static func load(contentsOf path: String) throws -> IRGraph {
        let url = URL(fileURLWithPath: path)
        let data: Data
        do {
            // Mapped: models can be hundreds of megabytes and are only read once.
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw ConvertError.io("cannot read ONNX model '\(path)': \(error.localizedDescription)")
        }
        return try load(data: data, baseDirectory: url.deletingLastPathComponent().path)
    }

    /// Loads an ONNX model from its serialized bytes.
    /// - Parameters:
    ///   - bytes: A serialized `ModelProto`.
    ///   - baseDirectory: Directory that external tensor data paths are relative to; `nil` rejects models with
    ///     external data.
    /// - Returns: The model's main graph.
    /// - Throws: `ConvertError.invalidONNX` for malformed models, `.unsupportedOpset`, `.unsupportedDType`,
    ///   `.io` for unreadable external data.
    public static func load(bytes: [UInt8], baseDirectory: String?) throws -> IRGraph {
        try load(data: Data(bytes), baseDirectory: baseDirectory)
    }

    static func load(data: Data, baseDirectory: String?) throws -> IRGraph {
        let model: Onnx_ModelProto
        do {
            // Unknown fields (sparse initializers, training info, functions) are dropped rather than kept in
            // memory: nothing downstream reads them.
            var options = BinaryDecodingOptions()
            options.discardUnknownFields = true
            model = try Onnx_ModelProto(serializedBytes: data, options: options)
        } catch {
            throw ConvertError.invalidONNX("not a serialized ONNX ModelProto (\(error))")
        }
        var context = ONNXImportContext(baseDirectory: baseDirectory)
        return try context.importModel(model)
    }
}

/// State of one import: where external files live and the names handed out so far.
struct ONNXImportContext {
    let baseDirectory: String?
    /// External data files, mapped once each however many tensors they hold.
    var externalFiles: [String: Data] = [:]
    /// `dim_param` names used by the model, so that generated names for anonymous dimensions avoid them.
    var dimParams: Set<String> = []
    var anonymousDimCount = 0

    init(baseDirectory: String?) {
        self.baseDirectory = baseDirectory
    }

    mutating func importModel(_ model: Onnx_ModelProto) throws -> IRGraph {
        guard model.hasGraph else { throw ConvertError.invalidONNX("the model has no graph") }
        let opset = try Self.defaultOpset(of: model)
        let graph = model.graph
        collectDimParams(graph)

        var ir = IRGraph(name: graph.name, opsetVersion: opset, producerName: model.producerName)

        for tensor in graph.initializer {
            guard !tensor.name.isEmpty else { throw ConvertError.invalidONNX("an initializer has no name") }
            guard ir.initializers[tensor.name] == nil else {
                throw ConvertError.invalidONNX("initializer '\(tensor.name)' is defined twice")
            }
            ir.initializers[tensor.name] = try tensorData(tensor, name: tensor.name)
        }

        // Before IR version 4 every initializer also had to be listed as a graph input; such inputs are constants,
        // not values a caller feeds.
        var inputNames = Set<String>()
        for input in graph.input where ir.initializers[input.name] == nil {
            guard inputNames.insert(input.name).inserted else {
                throw ConvertError.invalidONNX("graph input '\(input.name)' is listed twice")
            }
            ir.inputs.append(try valueInfo(input, role: "graph input"))
        }
        for output in graph.output {
            ir.outputs.append(try valueInfo(output, role: "graph output"))
        }
        for info in graph.valueInfo {
            // value_info is a hint: entries of types Sparrow cannot hold (strings, sequences) are skipped, the
            // nodes that make such values are reported by the supported-ops check instead.
            if let converted = try? valueInfo(info, role: "value_info") { ir.valueInfo[info.name] = converted }
        }

        // Every node gets a unique name: messages and generated names refer to nodes by name.
        let nodeNames = ONNXNodeNames.assign(graph.node)
        for (index, proto) in graph.node.enumerated() {
            guard let name = nodeNames[index] else {
                try importConstant(proto, index: index, into: &ir)
                continue
            }
            var node = try node(proto, index: index)
            node.name = name
            ir.nodes.append(node)
        }

        try ONNXTopology.validateAndSort(&ir)
        return ir
    }

    /// The default-domain (`""` or `ai.onnx`) opset version, checked against the supported range.
    static func defaultOpset(of model: Onnx_ModelProto) throws -> Int {
        let entries = model.opsetImport.filter { $0.domain.isEmpty || $0.domain == "ai.onnx" }
        guard let version = entries.map(\.version).max() else {
            throw ConvertError.invalidONNX("the model imports no default-domain (ai.onnx) opset")
        }
        guard let opset = Int(exactly: version), ONNXImporter.supportedOpsets.contains(opset) else {
            throw ConvertError.unsupportedOpset(version: Int(clamping: version), supported: ONNXImporter.supportedOpsets)
        }
        return opset
    }

    /// Converts a node and its attributes.
    mutating func node(_ proto: Onnx_NodeProto, index: Int) throws -> IRNode {
        guard !proto.opType.isEmpty else { throw ConvertError.invalidONNX("node #\(index) has no op_type") }
        let label = proto.name.isEmpty ? "\(proto.opType) node #\(index)" : "node '\(proto.name)'"
        var attributes: [String: IRAttribute] = [:]
        for attribute in proto.attribute {
            guard !attribute.name.isEmpty else { throw ConvertError.invalidONNX("\(label) has an unnamed attribute") }
            guard attribute.refAttrName.isEmpty else {
                throw ConvertError.invalidONNX("\(label): attribute '\(attribute.name)' refers to a function "
                    + "attribute, which is only valid inside a function body")
            }
            guard let value = try self.attribute(attribute, owner: label) else { continue }
            attributes[attribute.name] = value
        }
        return IRNode(name: proto.name, opType: proto.opType, domain: proto.domain == "ai.onnx" ? "" : proto.domain,
                      inputs: proto.input, outputs: proto.output, attributes: attributes)
    }
}
