import XCTest
@testable import Sparrow
@testable import SparrowConvert

/// Conv with a residual input (a fused `Add`): the pass's conditions, and the runtime's dense and sparse paths
/// against the same computation as separate Conv, Add and Relu nodes.
final class ResidualFusionTests: XCTestCase {
    // MARK: - FuseResidualAddPass

    private static let shape = [1, 2, 3, 3]

    private func fused(_ nodes: [IRNode], types: [String: [Int]]? = nil, outputs: [String] = ["y"]) throws -> IRGraph {
        var g = graph(outputs: outputs, nodes: nodes, initializers: [
            "w": floats([Float](repeating: 0.5, count: 4), [2, 2, 1, 1]),
            "wg": floats([1, 1], [2, 1, 1, 1]),
        ])
        var known: [String: (DType, [Int])] = [:]
        for node in nodes { for value in node.inputs + node.outputs where !value.isEmpty { known[value] = (.float32, Self.shape) } }
        known["x"] = (.float32, Self.shape)
        for (name, shape) in types ?? [:] { known[name] = (.float32, shape) }
        try FuseResidualAddPass(types: known).run(&g)
        try FuseActivationPass().run(&g)
        return g
    }

    func testConvAddReluBecomesOneConv() throws {
        let g = try fused([node("Conv", ["x", "w"], ["c"], name: "conv"), node("Add", ["c", "x"], ["s"]),
                           node("Relu", ["s"], ["y"])])
        XCTAssertEqual(g.nodes.count, 1)
        XCTAssertEqual(g.nodes[0].name, "conv")
        XCTAssertEqual(g.nodes[0].inputs, ["x", "w", "", "x"])
        XCTAssertEqual(g.nodes[0].outputs, ["y"])
        XCTAssertEqual(g.nodes[0].attributes["activation"], .int(FusedActivation.relu.rawValue))
        // Either operand order.
        let swapped = try fused([node("Conv", ["x", "w"], ["c"]), node("Add", ["x", "c"], ["y"])])
        XCTAssertEqual(swapped.nodes.map(\.opType), ["Conv"])
        XCTAssertEqual(swapped.nodes[0].inputs, ["x", "w", "", "x"])
    }

    /// A downsampling block: both operands are Convs; the later one in node order takes the other as residual.
    func testLaterOfTwoConvsTakesTheResidual() throws {
        for (first, second) in [("a", "b"), ("b", "a")] {
            let g = try fused([node("Conv", ["x", "w"], ["a"], name: "A"), node("Conv", ["x", "w"], ["b"], name: "B"),
                               node("Add", [first, second], ["y"])])
            XCTAssertEqual(g.nodes.map(\.name), ["A", "B"])
            XCTAssertEqual(g.nodes[1].inputs, ["x", "w", "", "a"])
            XCTAssertEqual(g.nodes[1].outputs, ["y"])
            XCTAssertEqual(g.nodes[0].inputs, ["x", "w"])
        }
    }

    func testConditionsThatBlockFusion() throws {
        let conv = node("Conv", ["x", "w"], ["c"])
        // Activation before the Add: Conv → Relu → Add.
        let activated = node("Conv", ["x", "w"], ["c"], ["activation": .int(FusedActivation.relu.rawValue)])
        XCTAssertEqual(try fused([activated, node("Add", ["c", "x"], ["y"])]).nodes.count, 2)
        // Broadcasting Add.
        XCTAssertEqual(try fused([conv, node("Add", ["c", "r"], ["y"])], types: ["r": [1, 2, 1, 1]]).nodes.count, 2)
        // Unknown shapes.
        var unknown = graph(nodes: [conv, node("Add", ["c", "x"], ["y"])],
                            initializers: ["w": floats([Float](repeating: 0.5, count: 4), [2, 2, 1, 1])])
        try FuseResidualAddPass(types: [:]).run(&unknown)
        XCTAssertEqual(unknown.nodes.count, 2)
        // The Conv's output read twice, or a graph output.
        XCTAssertEqual(try fused([conv, node("Add", ["c", "x"], ["y"]), node("Relu", ["c"], ["z"])],
                                 outputs: ["y", "z"]).nodes.count, 3)
        XCTAssertEqual(try fused([conv, node("Add", ["c", "x"], ["y"])], outputs: ["y", "c"]).nodes.count, 2)
        // Grouped convolution.
        let grouped = node("Conv", ["x", "wg"], ["c"], ["group": .int(2)])
        XCTAssertEqual(try fused([grouped, node("Add", ["c", "x"], ["y"])]).nodes.count, 2)
        // The other operand is computed after the Conv.
        XCTAssertEqual(try fused([conv, node("Relu", ["x"], ["r"]), node("Add", ["c", "r"], ["y"])]).nodes.count, 3)
        // x + x.
        XCTAssertEqual(try fused([conv, node("Add", ["c", "c"], ["y"])]).nodes.count, 2)
    }

    // MARK: - Runtime

    struct Case {
        var cin = 8, cout = 8, h = 9, w = 7, k = 3, stride = 1, pad = 1
        var activation: Int64 = 1
        var bias = true
    }

    /// Output of `c` as one Conv with a residual input (`fused`) or as Conv, Add and the activation's op.
    private func run(_ c: Case, fused: Bool, encoding: SparseKernelPathTests.Encoding, threads: Int) throws -> [Float] {
        var b = ModelBuilder()
        let oh = (c.h + 2 * c.pad - c.k) / c.stride + 1, ow = (c.w + 2 * c.pad - c.k) / c.stride + 1
        let x = b.input("x", [.fixed(1), .fixed(c.cin), .fixed(c.h), .fixed(c.w)])
        let r = b.input("r", [.fixed(1), .fixed(c.cout), .fixed(oh), .fixed(ow)])
        let values = SparseKernelPathTests.weights(c.cout * c.cin * c.k * c.k, rows: c.cout, sparsity: 0.85, seed: 11)
        let w = b.constant("w", [c.cout, c.cin, c.k, c.k],
                           storage: SparseKernelPathTests.storage(values, rows: c.cout, encoding, &b))
        let bias = c.bias ? b.constant("b", [c.cout], seed: 5) : nil
        let y = b.value("y")
        var attributes: [String: Attribute] = [
            "pads": .ints([Int64(c.pad), Int64(c.pad), Int64(c.pad), Int64(c.pad)]),
            "strides": .ints([Int64(c.stride), Int64(c.stride)])]
        if fused {
            attributes["activation"] = .int(c.activation)
            b.node(.conv, "conv", [x, w, bias, r], [y], attributes)
        } else {
            let conv = b.value("conv"), sum = b.value("sum")
            b.node(.conv, "conv", [x, w, bias], [conv], attributes)
            b.node(.add, "add", [conv, r], [c.activation == 0 ? y : sum])
            if c.activation == 1 { b.node(.relu, "relu", [sum], [y]) }
        }
        b.outputs = [y]
        let session = try Session(model: try Model(bytes: b.encode()), threads: threads)
        XCTAssertEqual(session.sparseWeightCount, encoding == .dense ? 0 : 1)
        let xs = try Tensor(shape: [1, c.cin, c.h, c.w],
                            floats: (0..<(c.cin * c.h * c.w)).map { Float(($0 * 37) % 101) / 50 - 1 })
        let rs = try Tensor(shape: [1, c.cout, oh, ow],
                            floats: (0..<(c.cout * oh * ow)).map { Float(($0 * 53) % 89) / 30 - 1.5 })
        return try session.run([xs, rs])[0].floats
    }

    func testFusedResidualMatchesSeparateAdd() throws {
        let cases = [
            Case(k: 1, pad: 0),                                   // pointwise (dense: sgemm in place)
            Case(h: 40, w: 37, k: 1, pad: 0),                     // pointwise, split over threads
            Case(),                                               // 3×3: im2col / phase-padded with compaction
            Case(h: 12, w: 10, stride: 2),                        // 3×3 stride 2
            Case(h: 13, w: 13, k: 1, stride: 2, pad: 0, activation: 0, bias: false),  // 1×1 stride 2
            Case(cin: 512, cout: 24, h: 7, w: 7, k: 1, pad: 0),   // runs of input channels (SpMMOperands)
            Case(cin: 256, cout: 16, h: 7, w: 7),                 // 3×3 in runs, compaction
            Case(cin: 300, cout: 20, h: 14, w: 14, k: 1, pad: 0, activation: 0),
        ]
        for (index, c) in cases.enumerated() {
            let reference = try run(c, fused: false, encoding: .dense, threads: 1)
            let scale = max(reference.map(abs).max() ?? 1, 1e-6)
            for encoding in [SparseKernelPathTests.Encoding.dense, .csr] {
                for threads in [1, 2] {
                    let actual = try run(c, fused: true, encoding: encoding, threads: threads)
                    let worst = zip(actual, reference).map { abs($0 - $1) }.max() ?? .infinity
                    XCTAssertEqual(actual.count, reference.count)
                    XCTAssertLessThanOrEqual(worst, 1e-5 * scale, "case \(index) \(c) \(encoding) threads \(threads)")
                }
            }
            // The unfused sparse model agrees too (runs without a residual).
            let separate = try run(c, fused: false, encoding: .csr, threads: 1)
            XCTAssertLessThanOrEqual(zip(separate, reference).map { abs($0 - $1) }.max() ?? .infinity, 1e-5 * scale)
        }
    }

    func testMismatchedResidualIsAnError() throws {
        var b = ModelBuilder()
        let x = b.input("x", [.fixed(1), .fixed(2), .fixed(4), .fixed(4)])
        let r = b.input("r", [.fixed(1), .fixed(2), .fixed(4), .fixed(3)])
        let w = b.constant("w", [2, 2, 1, 1], seed: 1)
        let y = b.value("y")
        b.node(.conv, "conv", [x, w, nil, r], [y])
        b.outputs = [y]
        XCTAssertThrowsError(try Session(model: try Model(bytes: b.encode()))) { error in
            XCTAssertTrue("\(error)".contains("residual"), "\(error)")
        }
    }

    /// Through the converter: a residual block's Add and Relu disappear into the Conv, and the model computes
    /// what it computes with the fusion blocked (the Conv's output also a graph output).
    func testConverterFusesResidualBlocks() throws {
        var g = GraphBuilder()
        g.conv("x", "a", inputs: 8, outputs: 8, kernel: 3, pad: 1)
        g.node("Relu", ["a"], "ar")
        g.conv("ar", "b", inputs: 8, outputs: 8, kernel: 3, pad: 1)
        g.node("Add", ["b", "x"], "s")
        g.node("Relu", ["s"], "y")
        let options = ConvertOptions(inputShapes: ["x": [1, 8, 10, 10]])
        var fusedGraph = g.graph(input: [.fixed(1), .fixed(8), .fixed(10), .fixed(10)], outputs: ["y"])
        let fused = try Converter.convert(graph: &fusedGraph, sourceName: "t", sourceSHA256: "", sourceBytes: 0,
                                          options: options)
        var blockedGraph = g.graph(input: [.fixed(1), .fixed(8), .fixed(10), .fixed(10)], outputs: ["y", "b"])
        let blocked = try Converter.convert(graph: &blockedGraph, sourceName: "t", sourceSHA256: "", sourceBytes: 0,
                                            options: options)
        XCTAssertEqual(fused.report.nodeCount, 2)
        XCTAssertEqual(blocked.report.nodeCount, 4)
        let x = try Tensor(shape: [1, 8, 10, 10], floats: (0..<800).map { Float(($0 * 29) % 97) / 48 - 1 })
        let a = try Session(model: try Model(bytes: fused.bytes)).run([x])[0].floats
        let b = try Session(model: try Model(bytes: blocked.bytes)).run([x])[0].floats
        let scale = max(b.map(abs).max() ?? 1, 1e-6)
        XCTAssertLessThanOrEqual(zip(a, b).map { abs($0 - $1) }.max() ?? .infinity, 1e-5 * scale)
    }
}
