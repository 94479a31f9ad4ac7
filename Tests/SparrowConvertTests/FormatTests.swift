import XCTest
@testable import Sparrow
@testable import SparrowConvert

/// Round trips of every storage encoding, and execution of each through the runtime.
final class FormatTests: XCTestCase {
    /// y = W·x for a 4×6 matrix stored in each encoding; all must give the same result.
    static let weights: [Float] = [
        0, 1.5, 0, 0, -2, 0,
        0, 0, 0, 0, 0, 0,
        3, 0, 0, 0.25, 0, 1,
        0, 0, -1, 0, 0, 0,
    ]

    static func csr(_ b: inout ModelBuilder) -> StorageEncoding {
        var rowPointers: [UInt32] = [0]
        var columns: [UInt8] = []
        var values: [Float] = []
        for row in 0..<4 {
            for col in 0..<6 where weights[row * 6 + col] != 0 {
                columns.append(UInt8(col))
                values.append(weights[row * 6 + col])
            }
            rowPointers.append(UInt32(values.count))
        }
        return .csr(CSRStorage(rows: 4, cols: 6, nonzeros: values.count, rowPointers: b.blobs.append(le(rowPointers)),
                               columnIndices: b.blobs.append(columns), indexWidth: .u8,
                               values: b.blobs.append(leFloats(values)), valueType: .float32))
    }

    static func coo(_ b: inout ModelBuilder) -> StorageEncoding {
        var rows: [UInt8] = [], columns: [UInt16] = [], values: [Float] = []
        for row in 0..<4 {
            for col in 0..<6 where weights[row * 6 + col] != 0 {
                rows.append(UInt8(row))
                columns.append(UInt16(col))
                values.append(weights[row * 6 + col])
            }
        }
        return .coo(COOStorage(rows: 4, cols: 6, nonzeros: values.count, rowIndices: b.blobs.append(rows),
                               rowIndexWidth: .u8, columnIndices: b.blobs.append(le(columns)), columnIndexWidth: .u16,
                               values: b.blobs.append(leFloats(values)), valueType: .float32))
    }

    static func int8(_ b: inout ModelBuilder) -> StorageEncoding {
        // Per-row scales chosen so that every weight is exactly representable.
        let scales: [Float] = [0.5, 1, 0.25, 1]
        var q: [Int8] = []
        for row in 0..<4 { for col in 0..<6 { q.append(Int8(weights[row * 6 + col] / scales[row])) } }
        return .int8PerChannel(values: b.blobs.append(q.map { UInt8(bitPattern: $0) }),
                               scales: b.blobs.append(leFloats(scales)), zeroPoints: nil, axis: 0)
    }

    /// A Gemm model y = x·Wᵀ with W in the given encoding.
    static func model(_ encode: (inout ModelBuilder) -> StorageEncoding?) -> [UInt8] {
        var b = ModelBuilder()
        let x = b.input("x", [.symbolic("N"), .fixed(6)])
        let w: Int
        if let storage = encode(&b) {
            w = b.constant("w", [4, 6], storage: storage)
        } else {
            w = b.constant("w", [4, 6], weights)
        }
        let y = b.value("y")
        b.node(.gemm, "fc", [x, w], [y], ["transB": .int(1)])
        b.outputs = [y]
        return b.encode()
    }

    func testEveryEncodingRunsToTheSameResult() throws {
        let x: [Float] = [1, 2, 3, 4, 5, 6, -1, 0, 1, 0, -1, 2]
        var expected: [Float] = []
        for n in 0..<2 {
            for row in 0..<4 {
                var sum: Float = 0
                for col in 0..<6 { sum += Self.weights[row * 6 + col] * x[n * 6 + col] }
                expected.append(sum)
            }
        }
        let variants: [(String, (inout ModelBuilder) -> StorageEncoding?)] = [
            ("dense", { _ in nil }), ("csr", Self.csr), ("coo", Self.coo), ("int8", Self.int8),
        ]
        for (name, encode) in variants {
            let model = try Model(bytes: Self.model(encode))
            let session = try Session(model: model)
            let output = try session.run([Tensor(shape: [2, 6], floats: x)])
            XCTAssertEqual(output[0].shape, [2, 4], name)
            for (a, b) in zip(output[0].floats, expected) { XCTAssertEqual(a, b, accuracy: 1e-5, name) }
        }
    }

    /// A sparse constant that is itself a graph output comes out dense (no arena slot, no kernel reads it).
    func testSparseConstantAsGraphOutput() throws {
        for encode in [Self.csr, Self.coo] {
            var b = ModelBuilder()
            let x = b.input("x", [.fixed(1)])
            let w = b.constant("w", [4, 6], storage: encode(&b))
            let y = b.value("y")
            b.node(.relu, "relu", [x], [y])
            b.outputs = [y, w]
            let session = try Session(model: try Model(bytes: b.encode()))
            let outputs = try session.run([Tensor(shape: [1], floats: [2])])
            XCTAssertEqual(outputs[1].shape, [4, 6])
            XCTAssertEqual(outputs[1].floats, Self.weights)
        }
    }

    func testRoundTripKeepsGraphAndMetadata() throws {
        let bytes = Self.model(Self.csr)
        let model = try Model(bytes: bytes)
        XCTAssertEqual(model.inputs.map(\.name), ["x"])
        XCTAssertEqual(model.inputs[0].shape, [.symbolic("N"), .fixed(6)])
        XCTAssertEqual(model.graph.nodes.map(\.op), [.gemm])
        XCTAssertEqual(model.graph.nodes[0].attributes["transB"], .int(1))
        XCTAssertEqual(model.metadata.first?.key, "producer")
        guard case .csr(let csr) = model.graph.tensors[1].storage else { return XCTFail("expected CSR") }
        XCTAssertEqual(csr.nonzeros, 6)
        XCTAssertEqual(csr.rowPointers.offset % 64, 0)
    }

    func testModelFromFileIsMapped() throws {
        let path = NSTemporaryDirectory() + "format-\(UUID().uuidString).sparrow"
        try AtomicFile.write(Self.model(Self.coo), to: path)
        defer { unlink(path) }
        let model = try Model(contentsOf: path)
        let session = try Session(model: model, inputShapes: ["x": [1, 6]])
        let y = try session.run([Tensor(shape: [1, 6], floats: [1, 0, 0, 0, 0, 0])])
        XCTAssertEqual(y[0].floats, [0, 0, 3, 0])
    }

    func testMissingFileIsAnIOError() {
        XCTAssertThrowsError(try Model(contentsOf: "/nonexistent/model.sparrow")) { error in
            guard case SparrowError.io = error else { return XCTFail("\(error)") }
        }
    }
}
