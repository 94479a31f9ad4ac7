import Foundation
import Sparrow

extension ONNXImportContext {
    /// Converts one attribute; `nil` for graph-, sparse- and type-valued attributes, which the IR cannot hold.
    mutating func attribute(_ proto: Onnx_AttributeProto, owner: String) throws -> IRAttribute? {
        let where_ = "\(owner), attribute '\(proto.name)'"
        switch Self.effectiveType(of: proto) {
        case .float: return .float(proto.f)
        case .int: return .int(proto.i)
        case .string: return .string(try Self.utf8(proto.s, context: where_))
        case .tensor: return .tensor(try tensorData(proto.t, name: where_))
        case .floats: return .floats(proto.floats)
        case .ints: return .ints(proto.ints)
        case .strings: return .strings(try proto.strings.map { try Self.utf8($0, context: where_) })
        case .graph, .graphs, .tensors, .sparseTensor, .sparseTensors, .typeProto, .typeProtos:
            // No Sparrow op takes these (If/Loop/Scan bodies, sequence ops); the supported-ops check names the
            // node, so the import itself does not fail on them.
            return nil
        case .undefined, .UNRECOGNIZED:
            throw ConvertError.invalidONNX("\(where_) has no recognised type (\(proto.type.rawValue))")
        }
    }

    /// The attribute's type. IR version 1 files had no `type` field; then the populated field decides, as in
    /// ONNX's own checker.
    static func effectiveType(of proto: Onnx_AttributeProto) -> Onnx_AttributeProto.AttributeType {
        if proto.type != .undefined { return proto.type }
        if !proto.floats.isEmpty { return .floats }
        if !proto.ints.isEmpty { return .ints }
        if !proto.strings.isEmpty { return .strings }
        if !proto.tensors.isEmpty { return .tensors }
        if !proto.graphs.isEmpty { return .graphs }
        if proto.hasT { return .tensor }
        if proto.hasG { return .graph }
        if !proto.s.isEmpty { return .string }
        if proto.f != 0 { return .float }
        return .int
    }

    static func utf8(_ data: Data, context: String) throws -> String {
        guard let string = String(data: data, encoding: .utf8) else {
            throw ConvertError.invalidONNX("\(context) is not valid UTF-8")
        }
        return string
    }

    /// Turns a `Constant` node into an initializer named after its output, so that passes and constant folding
    /// see one kind of constant.
    mutating func importConstant(_ proto: Onnx_NodeProto, index: Int, into graph: inout IRGraph) throws {
        let label = proto.name.isEmpty ? "Constant node #\(index)" : "Constant node '\(proto.name)'"
        guard proto.output.count == 1, let outputName = proto.output.first, !outputName.isEmpty else {
            throw ConvertError.invalidONNX("\(label) must have exactly one output")
        }
        guard proto.attribute.count == 1, let attribute = proto.attribute.first else {
            throw ConvertError.invalidONNX("\(label) must have exactly one value attribute")
        }
        let tensor: IRTensorData
        switch attribute.name {
        case "value":
            tensor = try tensorData(attribute.t, name: outputName)
        case "value_float":
            tensor = IRTensorData(floats: [attribute.f], shape: [])
        case "value_floats":
            tensor = IRTensorData(floats: attribute.floats, shape: [attribute.floats.count])
        case "value_int":
            tensor = IRTensorData(int64s: [attribute.i], shape: [])
        case "value_ints":
            tensor = IRTensorData(int64s: attribute.ints, shape: [attribute.ints.count])
        default:
            // sparse_value, value_string, value_strings
            throw ConvertError.unsupported("\(label) holds a '\(attribute.name)' constant; Sparrow supports dense "
                + "numeric constants only")
        }
        guard graph.initializers[outputName] == nil else {
            throw ConvertError.invalidONNX("value '\(outputName)' is defined twice (initializer and \(label))")
        }
        graph.initializers[outputName] = tensor
    }
}
