/// What an operator sees while a session is planned: the node, concrete input types, and input values that
/// are known before running (constants, shape arithmetic).
package struct OpContext {
    package let node: NodeDecl
    /// One per node input; `nil` for an omitted optional input.
    package let inputs: [TensorType?]
    /// Known values of inputs (small constants and folded values); `nil` when computed at run time or large.
    package let values: [HostValue?]
    /// Constants stored sparse (CSR/COO), per input; operators that run sparse kernels read these.
    package let sparse: [SparseMatrix?]
    /// Threads of the session's pool (kernels that give each thread its own scratch size the workspace by it).
    package let threads: Int

    package init(node: NodeDecl, inputs: [TensorType?], values: [HostValue?], sparse: [SparseMatrix?] = [],
                 threads: Int = 1) {
        self.node = node
        self.inputs = inputs
        self.values = values
        self.sparse = sparse
        self.threads = max(threads, 1)
    }

    /// The sparse form of input `index` when it is a constant stored as CSR or COO.
    package func sparseInput(_ index: Int) -> SparseMatrix? { index < sparse.count ? sparse[index] : nil }

    package func fail(_ reason: String) -> SparrowError { .invalidGraph(node: node.name, reason: reason) }
    package func unsupported(_ reason: String) -> SparrowError { .unsupported(node: node.name, reason: reason) }

    /// The type of a required input.
    package func input(_ index: Int) throws -> TensorType {
        guard index < inputs.count, let type = inputs[index] else {
            throw fail("\(node.op.name) needs input \(index)")
        }
        return type
    }

    package func hasInput(_ index: Int) -> Bool { index < inputs.count && inputs[index] != nil }

    /// The value of an input that must be known at plan time (a shape, axes, pads, …).
    package func value(_ index: Int, _ what: String) throws -> HostValue {
        guard index < values.count, let value = values[index] else {
            throw unsupported("\(what) (input \(index)) must be a constant or computable from shapes")
        }
        return value
    }

    package func optionalValue(_ index: Int) -> HostValue? { index < values.count ? values[index] : nil }

    /// Whether every present input has a known value.
    package var allInputsKnown: Bool {
        for (i, type) in inputs.enumerated() where type != nil && values[i] == nil { return false }
        return true
    }

    package func int(_ key: String, _ defaultValue: Int) throws -> Int {
        guard let attribute = node.attributes[key] else { return defaultValue }
        guard let value = attribute.intValue else { throw fail("attribute '\(key)' must be an int") }
        return Int(value)
    }

    package func float(_ key: String, _ defaultValue: Float) throws -> Float {
        guard let attribute = node.attributes[key] else { return defaultValue }
        guard let value = attribute.floatValue else { throw fail("attribute '\(key)' must be a float") }
        return value
    }

    package func ints(_ key: String) throws -> [Int]? {
        guard let attribute = node.attributes[key] else { return nil }
        guard let value = attribute.intsValue else { throw fail("attribute '\(key)' must be ints") }
        return value.map { Int($0) }
    }

    package func string(_ key: String, _ defaultValue: String) throws -> String {
        guard let attribute = node.attributes[key] else { return defaultValue }
        guard let value = attribute.stringValue else { throw fail("attribute '\(key)' must be a string") }
        return value
    }

    /// Normalises a possibly negative axis against `rank`.
    package func axis(_ axis: Int, rank: Int) throws -> Int {
        let normalized = axis < 0 ? axis + rank : axis
        guard normalized >= 0, normalized < max(rank, 1) else { throw fail("axis \(axis) outside rank \(rank)") }
        return normalized
    }
}

/// Fixed addresses an operator's kernel works on: inputs (arena, mapped constants or plan-owned buffers),
/// outputs in the arena, the shared workspace, and the session's thread pool.
package struct OpBuffers {
    package let inputs: [UnsafeRawPointer?]
    package let outputs: [UnsafeMutableRawPointer]
    package let workspace: UnsafeMutableRawPointer?
    package let pool: ThreadPool

    package init(inputs: [UnsafeRawPointer?], outputs: [UnsafeMutableRawPointer],
                 workspace: UnsafeMutableRawPointer?, pool: ThreadPool) {
        self.inputs = inputs
        self.outputs = outputs
        self.workspace = workspace
        self.pool = pool
    }

    package func input<T>(_ index: Int, as type: T.Type = Float.self) -> UnsafePointer<T> {
        inputs[index]!.assumingMemoryBound(to: T.self)
    }

    package func optionalInput<T>(_ index: Int, as type: T.Type = Float.self) -> UnsafePointer<T>? {
        index < inputs.count ? inputs[index]?.assumingMemoryBound(to: T.self) : nil
    }

    package func output<T>(_ index: Int, as type: T.Type = Float.self) -> UnsafeMutablePointer<T> {
        outputs[index].assumingMemoryBound(to: T.self)
    }
}

/// A prepared kernel: all addresses and sizes captured at plan time, so that running it allocates nothing.
package typealias Kernel = () -> Void

/// One operator kind: type inference, optional host evaluation, and kernel preparation.
package protocol Operator {
    /// Output types for the given input types (and known input values).
    static func infer(_ context: OpContext) throws -> [TensorType]

    /// Computes outputs on the host at plan time, for shape arithmetic on integers. Return `nil` when the op
    /// has no host evaluator or the inputs it needs are not known; float ops with all inputs known are then
    /// folded by running their kernel once at plan time.
    static func evaluate(_ context: OpContext) throws -> [HostValue]?

    /// Scratch bytes the kernel needs while it runs (one workspace is shared by all nodes of a plan).
    static func workspaceBytes(_ context: OpContext, outputs: [TensorType]) throws -> Int

    /// Builds the kernel for fixed buffers. Throws `unsupported` for dtypes or modes it does not execute.
    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel

    /// Whether the kernel reads input `index` in its sparse form (`OpContext.sparseInput`) rather than as a
    /// dense buffer. Sparse constants are expanded to dense f32 only for consumers that answer `false`.
    static func readsSparse(_ context: OpContext, input index: Int) -> Bool
}

extension Operator {
    package static func evaluate(_ context: OpContext) throws -> [HostValue]? { nil }
    package static func workspaceBytes(_ context: OpContext, outputs: [TensorType]) throws -> Int { 0 }
    package static func readsSparse(_ context: OpContext, input index: Int) -> Bool { false }
}
