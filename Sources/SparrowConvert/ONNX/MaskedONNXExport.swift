import Foundation
import SwiftProtobuf

/// The source ONNX model with every weight a conversion pruned set to zero at the same positions: the pruned
/// model in a form other runtimes run (`sparrow convert --export-masked-onnx`), so that ONNX Runtime can check
/// Sparrow's sparse kernels on the very model they computed.
///
/// Pruning runs after BatchNorm folding, which scales whole output channels by a factor that is the same for
/// every element of the channel, so a position zeroed in a folded weight is the same position of the source
/// weight. A mask reaches its source initializer through the node that reads it: the node of the same name in
/// the ONNX graph (`ONNXNodeNames`), the same op type, the same input slot. Everything else in the file stays as
/// it was (fields the converter does not read are kept as unknown fields and written back).
///
/// Refused, with an error that says why: changes that are not zeroed weights (channel pruning), a weight that is
/// not an initializer in the source (computed, a Constant node, a graph input), one initializer that two layers
/// pruned differently or that a layer reads unpruned, initializers with external data, and element types other
/// than FLOAT and DOUBLE.
public enum MaskedONNXExport {
    /// The masked model.
    public struct Result: Sendable {
        /// The serialized `ModelProto`.
        public let bytes: [UInt8]
        /// Source initializers that were masked.
        public let initializerCount: Int
        /// Elements set to zero over all of them.
        public let zeroedCount: Int
    }

    /// Masks the ONNX model at `path`.
    /// - Throws: `ConvertError.io` if the file cannot be read, otherwise the errors of `masked(onnx:masks:)`.
    public static func masked(onnxAt path: String, masks: PruningMasks) throws -> Result {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConvertError.io("cannot read \(path)")
        }
        return try masked(onnx: data, masks: masks)
    }

    /// Masks a serialized ONNX model.
    /// - Parameters:
    ///   - onnx: The source model the conversion read.
    ///   - masks: `ConversionResult.pruningMasks` of that conversion.
    /// - Throws: `ConvertError.unsupported` for pruning the ONNX file cannot express, `.invalidONNX` if the model
    ///   does not match the masks (a different file than the one converted).
    public static func masked(onnx: Data, masks: PruningMasks) throws -> Result {
        guard masks.otherChanges.isEmpty else {
            let shown = masks.otherChanges.prefix(3).joined(separator: "; ")
            let more = masks.otherChanges.count > 3 ? " (and \(masks.otherChanges.count - 3) more)" : ""
            throw ConvertError.unsupported("a masked ONNX model can only express weights set to zero, but the "
                + "conversion also changed the graph otherwise (structured pruning?): \(shown)\(more)")
        }
        var model: Onnx_ModelProto
        do {
            // Unknown fields are kept this time: they are written back unchanged.
            model = try Onnx_ModelProto(serializedBytes: onnx)
        } catch {
            throw ConvertError.invalidONNX("not a serialized ONNX ModelProto (\(error))")
        }
        let targets = try sourceInitializers(of: masks, in: model.graph)
        var zeroed = 0
        for (initializerIndex, mask) in targets {
            zeroed += try zero(&model.graph.initializer[initializerIndex], at: mask)
        }
        let bytes: [UInt8]
        do {
            bytes = try model.serializedBytes()
        } catch {
            throw ConvertError.io("cannot serialize the masked ONNX model: \(error)")
        }
        return Result(bytes: bytes, initializerCount: targets.count, zeroedCount: zeroed)
    }

    /// Each masked source initializer's index in `graph.initializer`, with its mask, in initializer order.
    /// - Throws: When a mask cannot be traced to exactly one source initializer that only its own layers read.
    static func sourceInitializers(of masks: PruningMasks, in graph: Onnx_GraphProto) throws
        -> [(index: Int, mask: PruningMask)]
    {
        let names = ONNXNodeNames.assign(graph.node)
        var nodeByName: [String: Int] = [:]
        for (index, name) in names.enumerated() { if let name { nodeByName[name] = index } }
        var initializerByName: [String: Int] = [:]
        for (index, tensor) in graph.initializer.enumerated() { initializerByName[tensor.name] = index }

        var assigned: [String: (index: Int, mask: PruningMask, readers: Set<PruningMask.Reader>)] = [:]
        for mask in masks.masks {
            guard !mask.readers.isEmpty else {
                throw ConvertError.unsupported("pruned weight '\(mask.weight)' is read by no node of the converted "
                    + "graph, so its source initializer cannot be found")
            }
            for reader in mask.readers {
                let layer = "node '\(reader.node)' (\(reader.opType)), which reads pruned weight '\(mask.weight)'"
                guard let nodeIndex = nodeByName[reader.node] else {
                    throw ConvertError.invalidONNX("\(layer), is not in the ONNX model (not the file that was "
                        + "converted, or a pass made the node)")
                }
                let proto = graph.node[nodeIndex]
                guard proto.opType == reader.opType, reader.input < proto.input.count else {
                    throw ConvertError.invalidONNX("\(layer), is a \(proto.opType) with \(proto.input.count) inputs in "
                        + "the ONNX model")
                }
                let source = proto.input[reader.input]
                guard let initializerIndex = initializerByName[source] else {
                    throw ConvertError.unsupported("\(layer), takes input \(reader.input) from '\(source)', which is "
                        + "not an initializer of the ONNX model (a Constant node, a graph input or a computed value); "
                        + "a masked model needs the weight as an initializer")
                }
                let dims = graph.initializer[initializerIndex].dims.map { Int($0) }
                guard dims == mask.shape else {
                    throw ConvertError.unsupported("\(layer): its source initializer '\(source)' has shape \(dims), "
                        + "the pruned weight \(mask.shape)")
                }
                if let previous = assigned[source] {
                    guard previous.mask.zeroedBits == mask.zeroedBits else {
                        throw ConvertError.unsupported("initializer '\(source)' is the source of pruned weights "
                            + "'\(previous.mask.weight)' and '\(mask.weight)', which were pruned differently (BatchNorm "
                            + "folding gives layers that share a weight a copy each); one ONNX initializer cannot hold "
                            + "both")
                    }
                    assigned[source]!.readers.insert(reader)
                } else {
                    assigned[source] = (initializerIndex, mask, [reader])
                }
            }
        }

        // Zeroing an initializer changes every node that reads it: they all have to be layers pruned with it.
        let graphOutputs = Set(graph.output.map(\.name))
        for (index, proto) in graph.node.enumerated() {
            for (slot, input) in proto.input.enumerated() {
                guard let target = assigned[input] else { continue }
                let reader = PruningMask.Reader(node: names[index] ?? proto.name, opType: proto.opType, input: slot)
                guard target.readers.contains(reader) else {
                    throw ConvertError.unsupported("initializer '\(input)' is pruned, but node '\(reader.node)' "
                        + "(\(proto.opType)) also reads it as input \(slot) and was not pruned with it; zeroing it "
                        + "would change that node too")
                }
            }
            for subgraph in proto.attribute.flatMap({ [$0.g] + $0.graphs }) {
                if let name = firstReference(to: Set(assigned.keys), in: subgraph) {
                    throw ConvertError.unsupported("initializer '\(name)' is pruned, but a subgraph of node "
                        + "'\(names[index] ?? proto.name)' reads it")
                }
            }
        }
        if let output = assigned.keys.sorted().first(where: graphOutputs.contains) {
            throw ConvertError.unsupported("initializer '\(output)' is pruned, but it is also a graph output")
        }
        return assigned.values.map { ($0.index, $0.mask) }.sorted { $0.index < $1.index }
    }

    /// A name of `names` that a node of `graph` or of its subgraphs reads.
    private static func firstReference(to names: Set<String>, in graph: Onnx_GraphProto) -> String? {
        for node in graph.node {
            if let name = node.input.first(where: names.contains) { return name }
            for subgraph in node.attribute.flatMap({ [$0.g] + $0.graphs }) {
                if let name = firstReference(to: names, in: subgraph) { return name }
            }
        }
        return nil
    }

    /// Sets the masked elements of `tensor` to +0 wherever its data lives in the file; returns how many were
    /// nonzero.
    static func zero(_ tensor: inout Onnx_TensorProto, at mask: PruningMask) throws -> Int {
        let name = tensor.name
        guard tensor.dataLocation != .external else {
            throw ConvertError.unsupported("initializer '\(name)' keeps its data in an external file; a masked "
                + "model is only written for initializers stored in the .onnx file")
        }
        let count = mask.elementCount
        let indices = mask.zeroedIndices
        var nonzero = 0
        switch Int(tensor.dataType) {
        case ONNXElementType.float where !tensor.rawData.isEmpty:
            guard tensor.rawData.count == count * 4 else { throw sizeError(name, tensor.rawData.count, count * 4) }
            tensor.rawData.withUnsafeMutableBytes { raw in
                for index in indices {
                    if raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self) << 1 != 0 { nonzero += 1 }
                    raw.storeBytes(of: 0, toByteOffset: index * 4, as: UInt32.self)
                }
            }
        case ONNXElementType.float:
            guard tensor.floatData.count == count else { throw sizeError(name, tensor.floatData.count, count) }
            for index in indices {
                if tensor.floatData[index] != 0 { nonzero += 1 }
                tensor.floatData[index] = 0
            }
        case ONNXElementType.double where !tensor.rawData.isEmpty:
            guard tensor.rawData.count == count * 8 else { throw sizeError(name, tensor.rawData.count, count * 8) }
            tensor.rawData.withUnsafeMutableBytes { raw in
                for index in indices {
                    if raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self) << 1 != 0 { nonzero += 1 }
                    raw.storeBytes(of: 0, toByteOffset: index * 8, as: UInt64.self)
                }
            }
        case ONNXElementType.double:
            guard tensor.doubleData.count == count else { throw sizeError(name, tensor.doubleData.count, count) }
            for index in indices {
                if tensor.doubleData[index] != 0 { nonzero += 1 }
                tensor.doubleData[index] = 0
            }
        default:
            let type = ConvertError.onnxTypeNames[Int(tensor.dataType)] ?? "code \(tensor.dataType)"
            throw ConvertError.unsupported("initializer '\(name)' has element type \(type); a masked model is only "
                + "written for FLOAT and DOUBLE weights")
        }
        return nonzero
    }

    private static func sizeError(_ name: String, _ actual: Int, _ expected: Int) -> ConvertError {
        .invalidONNX("initializer '\(name)' holds \(actual) bytes or values; its shape needs \(expected)")
    }
}
