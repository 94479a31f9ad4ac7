import XCTest
@testable import Sparrow
@testable import SparrowConvert

/// Conv and Gemm with weights stored CSR/COO run the SpMM paths (1×1, k×k through phase-padded input, strides,
/// dilation, a batch) and must equal the same weights stored dense, which run the dense kernels.
final class SparseKernelPathTests: XCTestCase {
    /// Seeded weights with `sparsity` of them zero (one row left fully dense, one row fully zero).
    static func weights(_ count: Int, rows: Int, sparsity: Double, seed: UInt64) -> [Float] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        let perRow = count / rows
        return (0..<count).map { i -> Float in
            let row = i / perRow
            let value = Float(next() - 0.5)
            if row == 0 { return value }
            if row == rows - 1 { return 0 }
            return next() < sparsity ? 0 : value
        }
    }

    enum Encoding { case dense, csr, coo }

    static func storage(_ values: [Float], rows: Int, _ encoding: Encoding, _ b: inout ModelBuilder) -> StorageEncoding {
        let cols = values.count / rows
        var rowPointers: [UInt32] = [0], rowIndices: [UInt16] = [], columns: [UInt16] = [], nonzeros: [Float] = []
        for row in 0..<rows {
            for col in 0..<cols where values[row * cols + col] != 0 {
                rowIndices.append(UInt16(row))
                columns.append(UInt16(col))
                nonzeros.append(values[row * cols + col])
            }
            rowPointers.append(UInt32(nonzeros.count))
        }
        let floats = nonzeros.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        switch encoding {
        case .dense:
            return .dense(b.blobs.append(values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }))
        case .csr:
            return .csr(CSRStorage(rows: rows, cols: cols, nonzeros: nonzeros.count, rowPointers: b.blobs.append(le(rowPointers)),
                                   columnIndices: b.blobs.append(le(columns)), indexWidth: .u16,
                                   values: b.blobs.append(floats), valueType: .float32))
        case .coo:
            return .coo(COOStorage(rows: rows, cols: cols, nonzeros: nonzeros.count, rowIndices: b.blobs.append(le(rowIndices)),
                                   rowIndexWidth: .u16, columnIndices: b.blobs.append(le(columns)), columnIndexWidth: .u16,
                                   values: b.blobs.append(floats), valueType: .float32))
        }
    }

    struct ConvCase {
        var batch = 1, cin = 8, cout = 12, h = 11, w = 9, k = 3, stride = 1, pad = 1, dilation = 1
        var activation: Int64 = 1
    }

    func runConv(_ c: ConvCase, encoding: Encoding, sparsity: Double, threads: Int) throws -> ([Float], Bool) {
        var b = ModelBuilder()
        let x = b.input("x", [.fixed(c.batch), .fixed(c.cin), .fixed(c.h), .fixed(c.w)])
        let values = Self.weights(c.cout * c.cin * c.k * c.k, rows: c.cout, sparsity: sparsity, seed: 7)
        let w = b.constant("w", [c.cout, c.cin, c.k, c.k], storage: Self.storage(values, rows: c.cout, encoding, &b))
        let bias = b.constant("b", [c.cout], seed: 3)
        let y = b.value("y")
        var attributes: [String: Attribute] = [
            "pads": .ints([Int64(c.pad), Int64(c.pad), Int64(c.pad), Int64(c.pad)]),
            "strides": .ints([Int64(c.stride), Int64(c.stride)]), "dilations": .ints([Int64(c.dilation), Int64(c.dilation)]),
            "activation": .int(c.activation)]
        if c.activation == 2 { attributes["activation_alpha"] = .float(0); attributes["activation_beta"] = .float(6) }
        b.node(.conv, "conv", [x, w, bias], [y], attributes)
        b.outputs = [y]
        let model = try Model(bytes: b.encode())
        let session = try Session(model: model, threads: threads)
        let count = c.batch * c.cin * c.h * c.w
        let input = try Tensor(shape: [c.batch, c.cin, c.h, c.w], floats: (0..<count).map { Float(($0 * 37) % 101) / 50 - 1 })
        let output = try session.run([input])[0].floats
        return (output, session.sparseWeightCount == 1)
    }

    func testSparseConvolutionsMatchDense() throws {
        var cases: [ConvCase] = []
        cases.append(ConvCase(k: 1, pad: 0))                       // pointwise: no copy
        cases.append(ConvCase(h: 40, w: 37, k: 1, pad: 0))          // pointwise, pixels split over threads
        cases.append(ConvCase())                                      // 3×3 stride 1 pad 1
        cases.append(ConvCase(h: 12, w: 10, stride: 2))               // 3×3 stride 2
        cases.append(ConvCase(h: 13, w: 13, k: 1, stride: 2, pad: 0)) // 1×1 stride 2 (no compaction)
        cases.append(ConvCase(k: 5, pad: 2, activation: 0))           // 5×5
        cases.append(ConvCase(h: 14, w: 12, dilation: 2, activation: 2)) // dilated, ReLU6
        cases.append(ConvCase(batch: 2, h: 7, w: 7, stride: 2, pad: 0))  // batch, no padding
        cases.append(ConvCase(cin: 3, cout: 5, h: 20, w: 17, k: 7, stride: 2, pad: 3)) // stem-like
        for (index, c) in cases.enumerated() {
            for sparsity in [0.5, 0.9] {
                for threads in [1, 2] {
                    let (dense, _) = try runConv(c, encoding: .dense, sparsity: sparsity, threads: 1)
                    for encoding in [Encoding.csr, .coo] {
                        let (sparse, used) = try runConv(c, encoding: encoding, sparsity: sparsity, threads: threads)
                        XCTAssertTrue(used, "case \(index) did not run the sparse kernel")
                        XCTAssertEqual(sparse.count, dense.count)
                        let scale = max(dense.map(abs).max() ?? 1, 1e-6)
                        let worst = zip(sparse, dense).map { abs($0 - $1) }.max() ?? 0
                        XCTAssertLessThanOrEqual(worst, 1e-5 * scale,
                                                 "case \(index) \(c) \(encoding) sparsity \(sparsity) threads \(threads)")
                    }
                }
            }
        }
    }

    func testSparseGemmMatchesDense() throws {
        for m in [1, 3] {
            for encoding in [Encoding.dense, .csr] {
                var results: [[Float]] = []
                for threads in [1, 2] {
                    var b = ModelBuilder()
                    let a = b.input("a", [.fixed(m), .fixed(300)])
                    let values = Self.weights(1000 * 300, rows: 1000, sparsity: 0.8, seed: 5)
                    let w = b.constant("w", [1000, 300], storage: Self.storage(values, rows: 1000, encoding, &b))
                    let c = b.constant("c", [1000], seed: 9)
                    let y = b.value("y")
                    b.node(.gemm, "fc", [a, w, c], [y], ["transB": .int(1), "activation": .int(1)])
                    b.outputs = [y]
                    let session = try Session(model: try Model(bytes: b.encode()), threads: threads)
                    let input = try Tensor(shape: [m, 300], floats: (0..<(m * 300)).map { Float($0 % 13) / 13 - 0.4 })
                    results.append(try session.run([input])[0].floats)
                    XCTAssertEqual(session.sparseWeightCount, encoding == .dense ? 0 : 1)
                }
                if encoding == .dense { continue }
                var b = ModelBuilder()
                let a = b.input("a", [.fixed(m), .fixed(300)])
                let values = Self.weights(1000 * 300, rows: 1000, sparsity: 0.8, seed: 5)
                let w = b.constant("w", [1000, 300], values)
                let c = b.constant("c", [1000], seed: 9)
                let y = b.value("y")
                b.node(.gemm, "fc", [a, w, c], [y], ["transB": .int(1), "activation": .int(1)])
                b.outputs = [y]
                let input = try Tensor(shape: [m, 300], floats: (0..<(m * 300)).map { Float($0 % 13) / 13 - 0.4 })
                let dense = try Session(model: try Model(bytes: b.encode())).run([input])[0].floats
                for result in results {
                    let worst = zip(result, dense).map { abs($0 - $1) }.max() ?? 0
                    XCTAssertLessThanOrEqual(worst, 1e-5 * max(dense.map(abs).max() ?? 1, 1), "m = \(m)")
                }
            }
        }
    }
}
