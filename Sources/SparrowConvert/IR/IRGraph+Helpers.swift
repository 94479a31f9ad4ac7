import Sparrow

// Graph queries and edits shared by the importer and the passes. Internal: they are conveniences of this module,
// not API. Bytes of IRTensorData are little-endian; the converter runs on little-endian hosts (x86-64, arm64), so
// element views copy bytes directly.

// MARK: - Use/def index

/// Producers and consumers of every value, built once per sweep so that a pass does not rescan the node list for
/// every question (quadratic on graphs with thousands of nodes).
struct IRUseIndex {
    /// Value name → index of the node that produces it.
    var producer: [String: Int] = [:]
    /// Value name → indices of the nodes that read it, ascending, each node once.
    var consumers: [String: [Int]] = [:]
    /// Names of the graph's outputs.
    var graphOutputs: Set<String> = []

    init(_ graph: IRGraph) {
        for (index, node) in graph.nodes.enumerated() {
            for output in node.outputs where !output.isEmpty { producer[output] = index }
            for input in Set(node.inputs) where !input.isEmpty { consumers[input, default: []].append(index) }
        }
        graphOutputs = Set(graph.outputs.map(\.name))
    }

    /// Nodes reading `value`.
    func consumers(of value: String) -> [Int] { consumers[value] ?? [] }

    /// True when exactly one node reads `value`, and the graph does not output it: the only case in which a pass
    /// may fuse the value away.
    func hasSingleInternalConsumer(_ value: String) -> Bool {
        consumers(of: value).count == 1 && !graphOutputs.contains(value)
    }
}

// MARK: - Queries

extension IRGraph {
    /// Index of the node that produces `value`, or `nil` for graph inputs, initializers and unknown names.
    func producerIndex(of value: String) -> Int? {
        nodes.firstIndex { $0.outputs.contains(value) }
    }

    /// Indices of the nodes that read `value`, each once.
    func consumerIndices(of value: String) -> [Int] {
        nodes.indices.filter { nodes[$0].inputs.contains(value) }
    }

    func isGraphOutput(_ value: String) -> Bool {
        outputs.contains { $0.name == value }
    }

    /// The declared element type of a value, if the model says (initializer, graph input/output or value_info).
    func declaredDType(of value: String) -> DType? {
        if let tensor = initializers[value] { return tensor.dtype }
        if let info = inputs.first(where: { $0.name == value }) { return info.dtype }
        if let info = valueInfo[value] { return info.dtype }
        if let info = outputs.first(where: { $0.name == value }) { return info.dtype }
        return nil
    }

    /// The declared shape of a value, if known (`nil` also for unknown rank).
    func declaredShape(of value: String) -> [Dim]? {
        if let tensor = initializers[value] { return tensor.shape.map { .fixed($0) } }
        if let info = inputs.first(where: { $0.name == value }) { return info.shape }
        if let info = valueInfo[value] { return info.shape }
        if let info = outputs.first(where: { $0.name == value }) { return info.shape }
        return nil
    }

    /// Every name in use for values and nodes; fresh names must avoid all of them.
    func allNames() -> Set<String> {
        var names = Set(initializers.keys)
        names.formUnion(inputs.map(\.name))
        names.formUnion(outputs.map(\.name))
        names.formUnion(valueInfo.keys)
        for node in nodes {
            names.insert(node.name)
            names.formUnion(node.inputs)
            names.formUnion(node.outputs)
        }
        return names
    }
}

// MARK: - Edits

extension IRGraph {
    /// Makes every node input that reads `old` read `new` instead (graph outputs are left alone).
    mutating func replaceUses(of old: String, with new: String) {
        for index in nodes.indices where nodes[index].inputs.contains(old) {
            nodes[index].inputs = nodes[index].inputs.map { $0 == old ? new : $0 }
        }
    }

    /// Renames a value everywhere: its producer's output, its readers, graph outputs and value_info.
    mutating func renameValue(_ old: String, to new: String) {
        for index in nodes.indices {
            if nodes[index].outputs.contains(old) {
                nodes[index].outputs = nodes[index].outputs.map { $0 == old ? new : $0 }
            }
        }
        replaceUses(of: old, with: new)
        for index in outputs.indices where outputs[index].name == old { outputs[index].name = new }
        if var info = valueInfo.removeValue(forKey: old) {
            info.name = new
            valueInfo[new] = info
        }
    }

    /// Removes the nodes at `indices`, keeping the order of the rest.
    mutating func removeNodes(at indices: Set<Int>) {
        guard !indices.isEmpty else { return }
        nodes = nodes.enumerated().filter { !indices.contains($0.offset) }.map(\.element)
    }
}

/// Generates names that collide with nothing in a graph (values, nodes) nor with each other.
struct IRNameScope {
    private var used: Set<String>
    private var counters: [String: Int] = [:]

    init(_ graph: IRGraph) { used = graph.allNames() }

    /// `base` itself if free, otherwise `base_1`, `base_2`, ...
    mutating func fresh(_ base: String) -> String {
        var candidate = base
        var counter = counters[base, default: 0]
        while candidate.isEmpty || used.contains(candidate) {
            counter += 1
            candidate = "\(base)_\(counter)"
        }
        counters[base] = counter
        used.insert(candidate)
        return candidate
    }

    /// Marks `name` as taken.
    mutating func reserve(_ name: String) { used.insert(name) }
}

// MARK: - Tensor data views

extension IRTensorData {
    /// A float32 tensor.
    init(floats: [Float], shape: [Int]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(floats.count * 4)
        for value in floats { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        self.init(dtype: .float32, shape: shape, bytes: bytes)
    }

    /// A float tensor of `dtype` (float32 or float16) holding `floats`; `nil` for other types.
    init?(floats: [Float], shape: [Int], dtype: DType) {
        switch dtype {
        case .float32:
            self.init(floats: floats, shape: shape)
        case .float16:
            var bytes: [UInt8] = []
            bytes.reserveCapacity(floats.count * 2)
            for value in floats { withUnsafeBytes(of: value.halfBits.littleEndian) { bytes.append(contentsOf: $0) } }
            self.init(dtype: .float16, shape: shape, bytes: bytes)
        default:
            return nil
        }
    }

    /// An int64 tensor.
    init(int64s: [Int64], shape: [Int]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(int64s.count * 8)
        for value in int64s { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        self.init(dtype: .int64, shape: shape, bytes: bytes)
    }

    /// Elements as Float for float32 and float16 tensors; `nil` for other types or a byte count that does not
    /// match the shape.
    func floatValues() -> [Float]? {
        guard bytes.count == elementCount * dtype.size else { return nil }
        switch dtype {
        case .float32:
            return (0..<elementCount).map { Float(bitPattern: loadLE(UInt32.self, at: $0 * 4)) }
        case .float16:
            return (0..<elementCount).map { Float(halfBits: loadLE(UInt16.self, at: $0 * 2)) }
        default:
            return nil
        }
    }

    /// Elements as Int64 for integer and bool tensors; `nil` for float types or a byte count that does not match
    /// the shape.
    func int64Values() -> [Int64]? {
        guard bytes.count == elementCount * dtype.size else { return nil }
        switch dtype {
        case .int64: return (0..<elementCount).map { Int64(bitPattern: loadLE(UInt64.self, at: $0 * 8)) }
        case .int32: return (0..<elementCount).map { Int64(Int32(bitPattern: loadLE(UInt32.self, at: $0 * 4))) }
        case .int8: return bytes.map { Int64(Int8(bitPattern: $0)) }
        case .uint8, .bool: return bytes.map { Int64($0) }
        case .float32, .float16: return nil
        }
    }

    /// The single element of a one-element float tensor (any rank), as Float.
    func scalarFloat() -> Float? {
        guard elementCount == 1 else { return nil }
        if let floats = floatValues() { return floats[0] }
        return int64Values().map { Float($0[0]) }
    }

    private func loadLE<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        var value: T = 0
        withUnsafeMutableBytes(of: &value) { destination in
            for i in 0..<MemoryLayout<T>.size { destination[i] = bytes[offset + i] }
        }
        return T(littleEndian: value)
    }
}

