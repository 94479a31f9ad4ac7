/// Name, element type and declared shape of a model input or output.
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    /// Declared dimensions; symbolic ones are resolved when a session is planned.
    public let shape: [Dim]
}

/// A validated `.sparrow` model. The file is memory-mapped and dense weights are used in place; a `Model` is
/// immutable and may be shared by several sessions on different threads.
public final class Model: @unchecked Sendable {
    let bytes: ModelBytes
    package let contents: ModelContents

    /// Maps and validates a `.sparrow` file.
    /// - Throws: `SparrowError.io` if the file cannot be mapped, `SparrowError.invalidModel` if it is malformed.
    public convenience init(contentsOf path: String) throws {
        try self.init(modelBytes: try ModelBytes.map(path: path))
    }

    /// Validates a model held in memory (e.g. embedded in an app). The bytes are copied into aligned storage.
    /// - Throws: `SparrowError.invalidModel` if the bytes are not a valid model.
    public convenience init(bytes: UnsafeRawBufferPointer) throws {
        try self.init(modelBytes: ModelBytes.copy(bytes))
    }

    /// Validates a model held in an array.
    public convenience init(bytes: [UInt8]) throws {
        let copy = bytes.withUnsafeBytes { ModelBytes.copy($0) }
        try self.init(modelBytes: copy)
    }

    private init(modelBytes: ModelBytes) throws {
        bytes = modelBytes
        contents = try ModelReader.read(modelBytes.buffer)
    }

    /// The graph as stored in the file.
    public var graph: GraphDescription { contents.graph }
    /// Metadata entries (producer, source model and its SHA-256, conversion options, …).
    public var metadata: [(key: String, value: String)] { contents.metadata }
    /// Size of the model file in bytes.
    public var fileSize: Int { bytes.count }

    /// Graph inputs in order.
    public var inputs: [TensorInfo] { graph.inputs.map(info) }
    /// Graph outputs in order.
    public var outputs: [TensorInfo] { graph.outputs.map(info) }

    private func info(_ index: Int) -> TensorInfo {
        let tensor = graph.tensors[index]
        return TensorInfo(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape)
    }

    /// Address of a validated blob inside the mapped file.
    package func pointer(to blob: BlobRef) -> UnsafeRawPointer { bytes.base + blob.offset }

    /// Bytes of a validated blob.
    package func buffer(of blob: BlobRef) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: pointer(to: blob), count: blob.length)
    }
}
