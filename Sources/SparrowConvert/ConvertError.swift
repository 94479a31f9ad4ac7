/// Everything that can go wrong while converting a model. Each case carries enough context (a tensor, a node, a
/// path) for the message alone to tell a user what to fix.
public enum ConvertError: Error, CustomStringConvertible, Sendable {
    /// The input is not a well-formed ONNX model (bad protobuf, dangling value names, inconsistent sizes, ...).
    case invalidONNX(String)
    /// Operators Sparrow does not implement, grouped by type (`domain:Op` outside the default domain), each with
    /// the names of every node that uses it, in order of first appearance.
    case unsupportedOps([(opType: String, nodes: [String])])
    /// A tensor whose ONNX element type (`TensorProto.DataType` code) Sparrow cannot represent.
    case unsupportedDType(tensor: String, type: Int)
    /// The model's default-domain opset is outside the range the importer understands.
    case unsupportedOpset(version: Int, supported: ClosedRange<Int>)
    /// A well-formed construct the converter does not handle (e.g. a training-mode BatchNormalization).
    case unsupported(String)
    /// Reading or writing a file failed.
    case io(String)
    /// A caller passed an argument that cannot be used (e.g. a bad option value).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .invalidONNX(let message):
            return "invalid ONNX model: \(message)"
        case .unsupportedOps(let ops):
            let list = ops.map { "\($0.opType) (\($0.nodes.count) node\($0.nodes.count == 1 ? "" : "s"): "
                + $0.nodes.joined(separator: ", ") + ")" }
            return "unsupported operators: " + list.joined(separator: "; ")
        case .unsupportedDType(let tensor, let type):
            let typeName = ConvertError.onnxTypeNames[type].map { "\($0) (\(type))" } ?? "code \(type)"
            return "tensor '\(tensor)' has ONNX element type \(typeName), which Sparrow does not support "
                + "(supported: FLOAT, FLOAT16, DOUBLE (stored as float), INT8, UINT8, INT32, INT64, BOOL)"
        case .unsupportedOpset(let version, let supported):
            return "the model uses default-domain opset \(version); Sparrow imports opsets "
                + "\(supported.lowerBound) to \(supported.upperBound) (re-export with an opset in that range)"
        case .unsupported(let message):
            return "unsupported: \(message)"
        case .io(let message):
            return "I/O error: \(message)"
        case .invalidArgument(let message):
            return "invalid argument: \(message)"
        }
    }

    /// Names of `TensorProto.DataType` codes, so that messages say `STRING` rather than `8`.
    static let onnxTypeNames: [Int: String] = [
        0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32", 7: "INT64",
        8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 12: "UINT32", 13: "UINT64", 14: "COMPLEX64",
        15: "COMPLEX128", 16: "BFLOAT16", 17: "FLOAT8E4M3FN", 18: "FLOAT8E4M3FNUZ", 19: "FLOAT8E5M2",
        20: "FLOAT8E5M2FNUZ", 21: "UINT4", 22: "INT4", 23: "FLOAT4E2M1", 24: "FLOAT8E8M0",
    ]
}
