import Sparrow
@testable import SparrowConvert

/// Builds small `.sparrow` files directly (graph + blobs), for format and corruption tests.
struct ModelBuilder {
    var tensors: [TensorDecl] = []
    var nodes: [NodeDecl] = []
    var inputs: [Int] = []
    var outputs: [Int] = []
    var blobs = BlobSection()

    mutating func input(_ name: String, _ shape: [Dim], dtype: DType = .float32) -> Int {
        tensors.append(TensorDecl(name: name, dtype: dtype, shape: shape))
        inputs.append(tensors.count - 1)
        return tensors.count - 1
    }

    mutating func value(_ name: String) -> Int {
        tensors.append(TensorDecl(name: name, dtype: .float32, shape: []))
        return tensors.count - 1
    }

    mutating func constant(_ name: String, _ shape: [Int], _ values: [Float]) -> Int {
        let bytes = values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        return constant(name, shape, storage: .dense(blobs.append(bytes)))
    }

    /// Seeded values in [-0.5, 0.5).
    mutating func constant(_ name: String, _ shape: [Int], seed: UInt64) -> Int {
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 24) - 0.5
        }
        return constant(name, shape, values)
    }

    mutating func constant(_ name: String, _ shape: [Int], ints: [Int64]) -> Int {
        constant(name, shape, storage: .dense(blobs.append(le(ints))), dtype: .int64)
    }

    mutating func constant(_ name: String, _ shape: [Int], storage: StorageEncoding, dtype: DType = .float32) -> Int {
        tensors.append(TensorDecl(name: name, dtype: dtype, shape: shape.map { .fixed($0) }, storage: storage))
        return tensors.count - 1
    }

    mutating func node(_ op: OpKind, _ name: String, _ inputs: [Int?], _ outputs: [Int],
                       _ attributes: [String: Attribute] = [:]) {
        nodes.append(NodeDecl(op: op, name: name, inputs: inputs, outputs: outputs, attributes: attributes))
    }

    func encode() -> [UInt8] {
        ModelFileWriter.encode(
            graph: GraphDescription(tensors: tensors, nodes: nodes, inputs: inputs, outputs: outputs),
            blobs: blobs, metadata: [("producer", "tests")])
    }
}

func le<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) }
}

func leFloats(_ values: [Float]) -> [UInt8] { le(values.map(\.bitPattern)) }
