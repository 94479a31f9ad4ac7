import Sparrow

/// Constant tensor data owned by the converter: raw little-endian bytes of `dtype`, C order.
public struct IRTensorData: Sendable, Equatable {
    public var dtype: DType
    public var shape: [Int]
    public var bytes: [UInt8]

    public init(dtype: DType, shape: [Int], bytes: [UInt8]) {
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    public var elementCount: Int { shape.reduce(1, *) }
}

/// An attribute of an imported node (ONNX attribute types the converter understands).
public enum IRAttribute: Sendable, Equatable {
    case int(Int64)
    case float(Float)
    case ints([Int64])
    case floats([Float])
    case string(String)
    case strings([String])
    case tensor(IRTensorData)
}

/// Declared type of a graph value (graph inputs/outputs, value_info).
public struct IRValueInfo: Sendable, Equatable {
    public var name: String
    public var dtype: DType
    /// `nil` when the rank is unknown.
    public var shape: [Dim]?

    public init(name: String, dtype: DType, shape: [Dim]?) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }
}

/// A node in ONNX terms. Sparrow's fused forms live in the `sparrow` domain or as extra attributes
/// (`activation`, `activation_alpha`, `activation_beta` on Conv/Gemm/MatMul/ConvTranspose).
public struct IRNode: Sendable, Equatable {
    public var name: String
    public var opType: String
    public var domain: String
    /// Value names; `""` marks an omitted optional input.
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: IRAttribute]

    public init(name: String, opType: String, domain: String = "", inputs: [String], outputs: [String],
                attributes: [String: IRAttribute] = [:]) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }
}

/// The converter's mutable graph: ONNX semantics, values by name, constants as initializers.
public struct IRGraph: Sendable {
    public var name: String
    /// Default-domain opset version of the source model.
    public var opsetVersion: Int
    public var producerName: String
    /// Nodes in topological order.
    public var nodes: [IRNode]
    public var initializers: [String: IRTensorData]
    /// Graph inputs that are not initializers.
    public var inputs: [IRValueInfo]
    public var outputs: [IRValueInfo]
    /// Declared types of intermediate values, when the source had them.
    public var valueInfo: [String: IRValueInfo]
    /// int8 codes an imported initializer came from (a QDQ model's weights, `QDQPass`): lowering stores them as
    /// int8 as long as the initializer still holds exactly their decoded values.
    var int8Codes: [String: Int8Weights] = [:]

    public init(name: String, opsetVersion: Int, producerName: String = "", nodes: [IRNode] = [],
                initializers: [String: IRTensorData] = [:], inputs: [IRValueInfo] = [],
                outputs: [IRValueInfo] = [], valueInfo: [String: IRValueInfo] = [:]) {
        self.name = name
        self.opsetVersion = opsetVersion
        self.producerName = producerName
        self.nodes = nodes
        self.initializers = initializers
        self.inputs = inputs
        self.outputs = outputs
        self.valueInfo = valueInfo
    }
}
