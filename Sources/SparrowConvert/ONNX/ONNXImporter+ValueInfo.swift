import Sparrow

extension ONNXImportContext {
    /// Records every `dim_param` in the graph so that names made up for anonymous dimensions never collide with
    /// one of them (a collision would tie two unrelated dimensions together at plan time).
    mutating func collectDimParams(_ graph: Onnx_GraphProto) {
        for info in graph.input + graph.output + graph.valueInfo {
            guard case .tensorType(let tensor)? = info.type.value else { continue }
            for dim in tensor.shape.dim {
                if case .dimParam(let name)? = dim.value { dimParams.insert(name) }
            }
        }
    }

    /// Converts a declared type. Unknown rank stays `nil`; a dimension without value or name becomes a fresh
    /// symbol (`unk_0`, `unk_1`, ...) so that it is not confused with any other.
    /// - Parameter role: How messages describe the value ("graph input", ...).
    mutating func valueInfo(_ proto: Onnx_ValueInfoProto, role: String) throws -> IRValueInfo {
        guard !proto.name.isEmpty else { throw ConvertError.invalidONNX("a \(role) has no name") }
        guard case .tensorType(let tensor)? = proto.type.value else {
            throw ConvertError.unsupported("\(role) '\(proto.name)' is not a tensor (sequence, map and optional "
                + "values are not supported)")
        }
        guard let dtype = ONNXElementType.dtype(Int(tensor.elemType)) else {
            throw ConvertError.unsupportedDType(tensor: proto.name, type: Int(tensor.elemType))
        }
        guard tensor.hasShape else { return IRValueInfo(name: proto.name, dtype: dtype, shape: nil) }
        var shape: [Dim] = []
        for dim in tensor.shape.dim {
            switch dim.value {
            case .dimValue(let value)? where value >= 0:
                guard let size = Int(exactly: value) else {
                    throw ConvertError.invalidONNX("\(role) '\(proto.name)' has dimension \(value)")
                }
                shape.append(.fixed(size))
            case .dimParam(let name)? where !name.isEmpty:
                shape.append(.symbolic(name))
            default:
                // Empty, or a negative dim_value that some exporters write for "unknown".
                shape.append(.symbolic(freshDimName()))
            }
        }
        return IRValueInfo(name: proto.name, dtype: dtype, shape: shape)
    }

    private mutating func freshDimName() -> String {
        while true {
            let name = "unk_\(anonymousDimCount)"
            anonymousDimCount += 1
            if !dimParams.contains(name) { return name }
        }
    }
}
