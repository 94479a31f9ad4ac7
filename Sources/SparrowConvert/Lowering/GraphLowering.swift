import Sparrow

/// Maps the converter's graph (ONNX semantics, values by name) onto the file's graph (tensor table, op codes,
/// typed attributes, dense or sparse blobs). Run after the passes, when every op type is one the runtime knows.
public enum GraphLowering {
    /// - Parameters:
    ///   - inferredTypes: types found by planning, used for intermediates that the ONNX file did not declare (so
    ///     that `sparrow inspect` and readers see shapes).
    ///   - weightEncodings: CSR or COO for float32 initializers by name (`SparseEncodingPolicy`); the others are
    ///     written dense.
    /// - Throws: `ConvertError` for ops or attributes the file cannot hold, and for a sparse encoding given to a
    ///   tensor that is not float32 or whose index widths are too narrow.
    ///   - int8Weights: float32 initializers to store as int8 codes with per-channel scales
    ///     (`WeightQuantizationPlan`); a sparse one gets int8 values with one scale per row.
    static func lower(_ graph: IRGraph, inferredTypes: [String: (DType, [Int])] = [:],
                      weightEncodings: [String: WeightEncoding] = [:],
                      int8Weights: [String: Int8Weights]) throws
        -> (graph: GraphDescription, blobs: BlobSection) {
        try lowerGraph(graph, inferredTypes: inferredTypes, weightEncodings: weightEncodings, int8Weights: int8Weights)
    }

    public static func lower(_ graph: IRGraph, inferredTypes: [String: (DType, [Int])] = [:],
                             weightEncodings: [String: WeightEncoding] = [:]) throws
        -> (graph: GraphDescription, blobs: BlobSection) {
        try lowerGraph(graph, inferredTypes: inferredTypes, weightEncodings: weightEncodings, int8Weights: [:])
    }

    private static func lowerGraph(_ graph: IRGraph, inferredTypes: [String: (DType, [Int])],
                                   weightEncodings: [String: WeightEncoding],
                                   int8Weights: [String: Int8Weights]) throws
        -> (graph: GraphDescription, blobs: BlobSection) {
        var tensors: [TensorDecl] = []
        var indexOf: [String: Int] = [:]
        var blobs = BlobSection()

        func declare(_ decl: TensorDecl) -> Int {
            indexOf[decl.name] = tensors.count
            tensors.append(decl)
            return tensors.count - 1
        }

        var inputs: [Int] = []
        for input in graph.inputs where graph.initializers[input.name] == nil {
            inputs.append(declare(TensorDecl(name: input.name, dtype: input.dtype, shape: input.shape ?? [])))
        }
        // Initializers in first-use order keep blobs of one layer together in the file.
        var used: [String] = []
        var seen = Set<String>()
        for node in graph.nodes {
            for name in node.inputs where !name.isEmpty && graph.initializers[name] != nil && !seen.contains(name) {
                seen.insert(name)
                used.append(name)
            }
        }
        for output in graph.outputs where graph.initializers[output.name] != nil && !seen.contains(output.name) {
            seen.insert(output.name)
            used.append(output.name)
        }
        for name in used {
            let data = graph.initializers[name]!
            let storage: StorageEncoding
            if let encoding = weightEncodings[name], encoding != .dense {
                guard data.dtype == .float32, let floats = data.floatValues() else {
                    throw ConvertError.invalidArgument("\(encoding.name) storage for '\(name)', which is \(data.dtype), "
                        + "not float32")
                }
                storage = try SparseTensorEncoder.encode(floats, shape: data.shape, as: encoding,
                                                         int8: int8Weights[name], into: &blobs)
            } else if let quantized = int8Weights[name] {
                storage = .int8PerChannel(values: blobs.append(quantized.values.map { UInt8(bitPattern: $0) }),
                                          scales: blobs.append(quantized.scales.flatMap {
                                              withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init)
                                          }),
                                          zeroPoints: nil, axis: quantized.axis)
            } else {
                storage = .dense(blobs.append(data.bytes))
            }
            _ = declare(TensorDecl(name: name, dtype: data.dtype, shape: data.shape.map { .fixed($0) },
                                   storage: storage))
        }
        var nodes: [NodeDecl] = []
        for node in graph.nodes {
            guard let op = OpKind(name: node.opType), node.domain.isEmpty || node.domain == "ai.onnx" else {
                throw ConvertError.unsupportedOps([(opType: node.opType, nodes: [node.name])])
            }
            var inputIndices: [Int?] = []
            for name in node.inputs {
                if name.isEmpty {
                    inputIndices.append(nil)
                    continue
                }
                guard let index = indexOf[name] else {
                    throw ConvertError.invalidONNX("node '\(node.name)' reads '\(name)', which nothing defines before it")
                }
                inputIndices.append(index)
            }
            var outputIndices: [Int] = []
            for name in node.outputs {
                guard !name.isEmpty else {
                    // Omitted optional outputs still need a slot; give them a private name.
                    outputIndices.append(declare(TensorDecl(name: "\(node.name):unused:\(outputIndices.count)", dtype: .float32, shape: [])))
                    continue
                }
                guard indexOf[name] == nil else {
                    throw ConvertError.invalidONNX("value '\(name)' is defined twice (node '\(node.name)')")
                }
                outputIndices.append(declare(intermediate(name, graph, inferredTypes)))
            }
            nodes.append(NodeDecl(op: op, name: node.name, inputs: inputIndices, outputs: outputIndices,
                                  attributes: try lowerAttributes(node)))
        }
        var outputs: [Int] = []
        for output in graph.outputs {
            guard let index = indexOf[output.name] else {
                throw ConvertError.invalidONNX("graph output '\(output.name)' is never computed")
            }
            if tensors[index].storage == nil, !output.name.isEmpty, let shape = output.shape, tensors[index].shape.isEmpty {
                tensors[index].shape = shape
                tensors[index].dtype = output.dtype
            }
            outputs.append(index)
        }
        return (GraphDescription(tensors: tensors, nodes: nodes, inputs: inputs, outputs: outputs), blobs)
    }

    private static func intermediate(_ name: String, _ graph: IRGraph, _ inferred: [String: (DType, [Int])]) -> TensorDecl {
        if let (dtype, shape) = inferred[name] {
            return TensorDecl(name: name, dtype: dtype, shape: shape.map { .fixed($0) })
        }
        if let info = graph.valueInfo[name] ?? graph.outputs.first(where: { $0.name == name }) {
            return TensorDecl(name: name, dtype: info.dtype, shape: info.shape ?? [])
        }
        return TensorDecl(name: name, dtype: .float32, shape: [])
    }

    /// ONNX `TensorProto.DataType` codes → Sparrow dtypes (Cast `to`, ConstantOfShape value).
    static func dtype(fromONNX code: Int64) -> DType? {
        switch code {
        case 1, 11: return .float32
        case 2: return .uint8
        case 3: return .int8
        case 6: return .int32
        case 7: return .int64
        case 9: return .bool
        case 10: return .float16
        default: return nil
        }
    }

    private static func lowerAttributes(_ node: IRNode) throws -> [String: Attribute] {
        var result: [String: Attribute] = [:]
        for (key, attribute) in node.attributes {
            switch attribute {
            case .int(let v): result[key] = .int(v)
            case .float(let v): result[key] = .float(v)
            case .ints(let v): result[key] = .ints(v)
            case .floats(let v): result[key] = .floats(v)
            case .string(let v): result[key] = .string(v)
            case .strings:
                throw ConvertError.unsupported("node '\(node.name)': string-list attribute '\(key)'")
            case .tensor(let data):
                // ConstantOfShape's `value`: one element, stored as a scalar plus its dtype.
                guard data.elementCount == 1 else {
                    throw ConvertError.unsupported("node '\(node.name)': tensor attribute '\(key)' with \(data.elementCount) elements")
                }
                if data.dtype.isInteger {
                    result[key] = .int(data.int64Values()?.first ?? 0)
                } else {
                    result[key] = .float(data.floatValues()?.first ?? 0)
                }
                result["dtype"] = .int(Int64(data.dtype.rawValue))
            }
        }
        if node.opType == "Cast" {
            guard let code = node.attributes["to"], case .int(let onnxType) = code, let dtype = dtype(fromONNX: onnxType) else {
                throw ConvertError.unsupported("node '\(node.name)': Cast to an unsupported type")
            }
            result["to"] = .int(Int64(dtype.rawValue))
        }
        return result
    }
}
