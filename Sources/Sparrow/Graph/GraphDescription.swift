/// One dimension of a declared shape: a number, or a symbol (`batch`, `height`) resolved when a session is
/// planned for concrete input shapes.
public enum Dim: Sendable, Hashable, CustomStringConvertible {
    case fixed(Int)
    case symbolic(String)

    public var fixedValue: Int? { if case .fixed(let v) = self { return v } else { return nil } }
    public var description: String {
        switch self {
        case .fixed(let v): return String(v)
        case .symbolic(let s): return s
        }
    }
}

/// A named tensor of the graph: a graph input, an intermediate, an output or a constant (with storage).
public struct TensorDecl: Sendable, Equatable {
    public var name: String
    public var dtype: DType
    /// Declared shape. Constants always have fixed dimensions; intermediates may be empty (unknown rank), their
    /// shapes are inferred when a session is planned.
    public var shape: [Dim]
    /// How a constant's bytes are stored in the file; `nil` for values computed at run time.
    public var storage: StorageEncoding?

    public init(name: String, dtype: DType, shape: [Dim], storage: StorageEncoding? = nil) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.storage = storage
    }

    /// Fixed dimensions, or `nil` if any is symbolic.
    public var fixedShape: [Int]? {
        var dims: [Int] = []
        for d in shape {
            guard case .fixed(let v) = d else { return nil }
            dims.append(v)
        }
        return dims
    }
}

/// One operator application. Inputs are tensor indices; `nil` marks an omitted optional input.
public struct NodeDecl: Sendable, Equatable {
    public var op: OpKind
    public var name: String
    public var inputs: [Int?]
    public var outputs: [Int]
    public var attributes: [String: Attribute]

    public init(op: OpKind, name: String, inputs: [Int?], outputs: [Int], attributes: [String: Attribute] = [:]) {
        self.op = op
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }
}

/// The whole graph as stored in a `.sparrow` file: nodes are in topological order.
public struct GraphDescription: Sendable, Equatable {
    public var tensors: [TensorDecl]
    public var nodes: [NodeDecl]
    public var inputs: [Int]
    public var outputs: [Int]

    public init(tensors: [TensorDecl], nodes: [NodeDecl], inputs: [Int], outputs: [Int]) {
        self.tensors = tensors
        self.nodes = nodes
        self.inputs = inputs
        self.outputs = outputs
    }
}
