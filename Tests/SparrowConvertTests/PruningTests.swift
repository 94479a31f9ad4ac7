import Foundation
import XCTest
@testable import Sparrow
@testable import SparrowConvert
@testable import sparrow_cli

// Test classes are named PruningTests* so that `--filter PruningTests` selects all of them.

/// A small CNN with one layer of every kind, input x [1, 8, 12, 12]:
/// stem (3×3 s2, first) → pw (1×1) → dw (depthwise 3×3) → k3 (3×3 s1) → GAP → Flatten → fc1 (Gemm, transB = 1)
/// → mm (MatMul) → fc2 (Gemm, transB = 0, last).
private func smallCNN(seed: UInt64 = 1, zeroFraction: Float = 0) -> IRGraph {
    var random = SplitMix64(state: seed)
    func weight(_ shape: [Int]) -> IRTensorData {
        var values = random.floats(shape.reduce(1, *))
        if zeroFraction > 0 {
            // Pre-pruned: the first zeroFraction of each row is zero.
            let rows = shape[0], cols = values.count / rows
            for row in 0..<rows { for col in 0..<Int(Float(cols) * zeroFraction) { values[row * cols + col] = 0 } }
        }
        return IRTensorData(floats: values, shape: shape)
    }
    let pads: IRAttribute = .ints([1, 1, 1, 1])
    let nodes = [
        node("Conv", ["x", "w_stem"], ["a"], name: "stem", ["strides": .ints([2, 2]), "pads": pads]),
        node("Relu", ["a"], ["b"], name: "relu"),
        node("Conv", ["b", "w_pw", "b_pw"], ["c"], name: "pw"),
        node("Conv", ["c", "w_dw"], ["d"], name: "dw", ["group": .int(32), "pads": pads]),
        node("Conv", ["d", "w_k3"], ["e"], name: "k3", ["pads": pads]),
        node("GlobalAveragePool", ["e"], ["f"], name: "gap"),
        node("Flatten", ["f"], ["g"], name: "flatten"),
        node("Gemm", ["g", "w_fc1", "b_fc1"], ["h"], name: "fc1", ["transB": .int(1)]),
        node("MatMul", ["h", "w_mm"], ["i"], name: "mm"),
        node("Gemm", ["i", "w_fc2"], ["y"], name: "fc2"),
    ]
    let initializers: [String: IRTensorData] = [
        "w_stem": weight([16, 8, 3, 3]), "w_pw": weight([32, 16, 1, 1]),
        "b_pw": IRTensorData(floats: random.floats(32), shape: [32]), "w_dw": weight([32, 1, 3, 3]),
        "w_k3": weight([32, 32, 3, 3]), "w_fc1": weight([64, 32]),
        "b_fc1": IRTensorData(floats: random.floats(64), shape: [64]), "w_mm": weight([64, 48]),
        "w_fc2": weight([48, 10]),
    ]
    return IRGraph(name: "small", opsetVersion: 17, nodes: nodes, initializers: initializers,
                   inputs: [IRValueInfo(name: "x", dtype: .float32, shape: [.fixed(1), .fixed(8), .fixed(12), .fixed(12)])],
                   outputs: [IRValueInfo(name: "y", dtype: .float32, shape: nil)])
}

private func convert(_ graph: IRGraph, _ options: ConvertOptions) throws -> ConversionResult {
    var graph = graph
    return try Converter.convert(graph: &graph, sourceName: "small", sourceSHA256: "", sourceBytes: 0,
                                 options: options)
}

private func planned(_ graph: IRGraph, _ options: ConvertOptions) throws -> (IRGraph, SparsityPlanner.Plan) {
    var graph = graph
    let plan = try SparsityPlanner.run(&graph, options: options)
    return (graph, plan)
}

private func zeros(_ graph: IRGraph, _ weight: String) -> Int {
    graph.initializers[weight]!.floatValues()!.count(where: { $0 == 0 })
}

private func row(_ report: PruningReport, _ node: String) -> PruningReport.Layer? {
    report.layers.first { $0.node == node }
}

private func assertInvalidArgument<T>(_ body: @autoclosure () throws -> T, _ expected: String,
                                      file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        guard case ConvertError.invalidArgument(let message) = error else {
            return XCTFail("expected invalidArgument, got \(error)", file: file, line: line)
        }
        XCTAssertTrue(message.contains(expected), "'\(message)' does not mention '\(expected)'", file: file, line: line)
    }
}

// MARK: - Magnitude pruning

final class PruningTestsMagnitude: XCTestCase {
    func testSmallestMagnitudesGoFirstAndTiesByPosition() throws {
        // |w| order: 0 (3), 0.5 (4), then three ties at 1 (1, 2, 7): positions 1 and 2 go, 7 stays.
        var values: [Float] = [3, -1, 1, 0, -0.5, 2, 4, -1]
        MagnitudePruning.prune(&values, fraction: 0.5)
        XCTAssertEqual(values, [3, 0, 0, 0, 0, 2, 4, -1])
    }

    func testZeroCountIsRounded() throws {
        XCTAssertEqual(MagnitudePruning.zeroCount(fraction: 0.9, of: 10), 9)
        XCTAssertEqual(MagnitudePruning.zeroCount(fraction: 0.5, of: 5), 3)  // 2.5 rounds away from zero
        XCTAssertEqual(MagnitudePruning.zeroCount(fraction: 0.1, of: 4), 0)
        XCTAssertEqual(MagnitudePruning.zeroCount(fraction: 0, of: 100), 0)
        var equal = [Float](repeating: 0.25, count: 101)
        MagnitudePruning.prune(&equal, fraction: 0.7)
        XCTAssertEqual(equal.count(where: { $0 == 0 }), 71)
        XCTAssertEqual(equal.firstIndex(of: 0.25), 71, "ties go in index order")
    }

    func testExistingZerosStayAndNaNGoesLast() throws {
        var values: [Float] = [0, 0, 0, 5, 0, 6]
        MagnitudePruning.prune(&values, fraction: 0.5)
        XCTAssertEqual(values, [0, 0, 0, 5, 0, 6], "more zeros than the target: none come back")
        var withNaN: [Float] = [.nan, 1e30, .infinity, -2]
        MagnitudePruning.prune(&withNaN, fraction: 0.7)
        XCTAssertEqual(withNaN[1...3], [0, 0, 0])
        XCTAssertTrue(withNaN[0].isNaN)
    }

    func testLayerScopeGivesExactZeroCountsPerLayer() throws {
        let (graph, plan) = try planned(smallCNN(), ConvertOptions(prune: 0.73, pruneSkip: []))
        for layer in plan.report.layers {
            let weight = smallCNN().nodes.first { $0.name == layer.node }!.inputs[1]
            let expected = MagnitudePruning.zeroCount(fraction: 0.73, of: layer.elementCount)
            XCTAssertEqual(zeros(graph, weight), expected, layer.node)
            XCTAssertEqual(layer.zeroCount, expected, layer.node)
            // Every pruned weight was no larger than every kept one.
            let original = smallCNN().initializers[weight]!.floatValues()!
            let pruned = graph.initializers[weight]!.floatValues()!
            let dropped = zip(original, pruned).filter { $0.1 == 0 }.map { $0.0.magnitude }.max()!
            let kept = pruned.filter { $0 != 0 }.map(\.magnitude).min()!
            XCTAssertLessThanOrEqual(dropped, kept, layer.node)
        }
        XCTAssertEqual(plan.report.layers.map(\.node), ["stem", "pw", "dw", "k3", "fc1", "mm", "fc2"])
    }

    func testGlobalScopeUsesOneThreshold() throws {
        // pw's weights are 100× smaller than the others: a global threshold takes all of them first.
        var graph = smallCNN()
        graph.initializers["w_pw"] = IRTensorData(floats: graph.initializers["w_pw"]!.floatValues()!.map { $0 / 100 },
                                                  shape: [32, 16, 1, 1])
        let (pruned, plan) = try planned(graph, ConvertOptions(prune: 0.5, pruneScope: .global))
        let pooled = ["w_pw", "w_k3", "w_fc1", "w_mm"]
        let total = pooled.reduce(0) { $0 + graph.initializers[$1]!.elementCount }
        XCTAssertEqual(pooled.reduce(0) { $0 + zeros(pruned, $1) }, MagnitudePruning.zeroCount(fraction: 0.5, of: total))
        XCTAssertEqual(zeros(pruned, "w_pw"), 512, "every tiny weight is below the global threshold")
        XCTAssertEqual(row(plan.report, "pw")?.sparsity, 1)
        var dropped: Float = 0, kept = Float.infinity
        for name in pooled {
            for (before, after) in zip(graph.initializers[name]!.floatValues()!, pruned.initializers[name]!.floatValues()!) {
                if after == 0 { dropped = max(dropped, before.magnitude) } else { kept = min(kept, after.magnitude) }
            }
        }
        XCTAssertLessThanOrEqual(dropped, kept)
        // Layers differ in sparsity under a global threshold, unlike layer scope.
        XCTAssertNotEqual(row(plan.report, "k3")!.sparsity, row(plan.report, "fc1")!.sparsity)
        // Skipped layers stay out of the pool.
        XCTAssertEqual(zeros(pruned, "w_stem"), 0)
        XCTAssertEqual(zeros(pruned, "w_fc2"), 0)
    }

    func testSharedWeightIsPrunedOnce() throws {
        var graph = smallCNN()
        // A second MatMul reads w_mm too; one row reports the weight under its first reader.
        graph.nodes.insert(node("MatMul", ["h", "w_mm"], ["i2"], name: "mm2"), at: 9)
        graph.nodes.append(node("Add", ["y", "y2"], ["out"], name: "sum"))
        graph.nodes.insert(node("Gemm", ["i2", "w_fc2"], ["y2"], name: "fc2b"), at: 10)
        graph.outputs = [IRValueInfo(name: "out", dtype: .float32, shape: nil)]
        let (pruned, plan) = try planned(graph, ConvertOptions(prune: 0.6))
        XCTAssertEqual(zeros(pruned, "w_mm"), MagnitudePruning.zeroCount(fraction: 0.6, of: 64 * 48))
        XCTAssertEqual(plan.report.layers.filter { $0.node.hasPrefix("mm") }.map(\.node), ["mm"])
        XCTAssertTrue(row(plan.report, "mm")!.note.contains("shared with mm2"))
        // w_fc2 is read by fc2b and by the last layer, fc2, so it is skipped as "last".
        XCTAssertEqual(zeros(pruned, "w_fc2"), 0)
        assertInvalidArgument(try planned(graph, ConvertOptions(pruneLayers: ["mm": 0.5, "mm2": 0.7])), "share the weight")
        XCTAssertNoThrow(try planned(graph, ConvertOptions(pruneLayers: ["mm": 0.5, "mm2": 0.5])))
    }

    func testWeightsReadByOtherNodesAreNotPrunable() throws {
        var graph = smallCNN()
        // w_k3 also read by a Mul: zeroing it would change the Mul, so k3 is not prunable any more.
        graph.nodes.append(node("Mul", ["e", "w_k3"], ["k3_out"], name: "k3_reader"))
        let layers = PrunableLayer.all(in: graph).map(\.node)
        XCTAssertFalse(layers.contains("k3"))
        XCTAssertTrue(layers.contains("pw"))
        assertInvalidArgument(try planned(graph, ConvertOptions(pruneLayers: ["k3": 0.5])), "also read by other nodes")
    }
}

// MARK: - Skips, overrides, pre-pruned weights

final class PruningTestsOptions: XCTestCase {
    func testDefaultSkipsLeaveFirstLastAndDepthwiseDense() throws {
        let (pruned, plan) = try planned(smallCNN(), ConvertOptions(prune: 0.9))
        XCTAssertEqual(ConvertOptions().pruneSkip, [.first, .last, .depthwise])
        for weight in ["w_stem", "w_dw", "w_fc2"] { XCTAssertEqual(zeros(pruned, weight), 0, weight) }
        for weight in ["w_pw", "w_k3", "w_fc1", "w_mm"] {
            let count = pruned.initializers[weight]!.elementCount
            XCTAssertEqual(zeros(pruned, weight), MagnitudePruning.zeroCount(fraction: 0.9, of: count), weight)
        }
        XCTAssertEqual(row(plan.report, "stem")?.note, "skip: first")
        XCTAssertEqual(row(plan.report, "dw")?.note, "skip: depthwise")
        XCTAssertEqual(row(plan.report, "fc2")?.note, "skip: last")
        XCTAssertEqual(row(plan.report, "dw")?.kind, .depthwise)
        XCTAssertEqual(row(plan.report, "stem")?.kind, .stridedSpatial)
        XCTAssertEqual(row(plan.report, "k3")?.kind, .spatial)
        XCTAssertEqual(row(plan.report, "pw")?.kind, .pointwise)
        XCTAssertEqual(row(plan.report, "mm")?.kind, .fullyConnected)

        let (onlyDepthwise, _) = try planned(smallCNN(), ConvertOptions(prune: 0.9, pruneSkip: [.depthwise]))
        XCTAssertEqual(zeros(onlyDepthwise, "w_dw"), 0)
        XCTAssertEqual(zeros(onlyDepthwise, "w_stem"), MagnitudePruning.zeroCount(fraction: 0.9, of: 16 * 8 * 9))
    }

    func testOverridesBeatPruneAndSkips() throws {
        let options = ConvertOptions(prune: 0.5, pruneLayers: ["stem": 0.25, "k3": 0.8, "pw": 0])
        let (pruned, plan) = try planned(smallCNN(), options)
        XCTAssertEqual(zeros(pruned, "w_stem"), MagnitudePruning.zeroCount(fraction: 0.25, of: 16 * 8 * 9))
        XCTAssertEqual(zeros(pruned, "w_k3"), MagnitudePruning.zeroCount(fraction: 0.8, of: 32 * 32 * 9))
        XCTAssertEqual(zeros(pruned, "w_pw"), 0)
        XCTAssertEqual(zeros(pruned, "w_fc1"), MagnitudePruning.zeroCount(fraction: 0.5, of: 64 * 32))
        XCTAssertEqual(row(plan.report, "k3")?.note, "override 0.8")
        // Without --prune, only the named layers are pruned; overrides apply per layer in global scope too.
        let (alone, _) = try planned(smallCNN(), ConvertOptions(pruneScope: .global, pruneLayers: ["mm": 0.6]))
        XCTAssertEqual(zeros(alone, "w_mm"), MagnitudePruning.zeroCount(fraction: 0.6, of: 64 * 48))
        for weight in ["w_stem", "w_pw", "w_dw", "w_k3", "w_fc1", "w_fc2"] { XCTAssertEqual(zeros(alone, weight), 0) }
    }

    func testBadLayerNamesAndFractions() {
        assertInvalidArgument(try planned(smallCNN(), ConvertOptions(pruneLayers: ["fc3": 0.5])),
                              "nearby prunable layers: fc1, fc2")
        assertInvalidArgument(try planned(smallCNN(), ConvertOptions(pruneLayers: ["zzzzzzzz": 0.5])),
                              "prunable layers are: stem, pw, dw")
        assertInvalidArgument(try planned(smallCNN(), ConvertOptions(pruneLayers: ["gap": 0.5])),
                              "it is a GlobalAveragePool")
        assertInvalidArgument(try planned(smallCNN(), ConvertOptions(prune: 1)), "outside [0, 1)")
        assertInvalidArgument(try planned(smallCNN(), ConvertOptions(prune: -0.1)), "outside [0, 1)")
        assertInvalidArgument(try planned(smallCNN(), ConvertOptions(prune: .nan)), "outside [0, 1)")
        assertInvalidArgument(try planned(smallCNN(), ConvertOptions(pruneLayers: ["pw": 1.5])), "pw=1.5")
        assertInvalidArgument(try convert(smallCNN(), ConvertOptions(prune: 2)), "outside [0, 1)")
    }

    func testConvTransposeIsNotPrunable() {
        let graph = IRGraph(
            name: "t", opsetVersion: 17,
            nodes: [node("ConvTranspose", ["x", "w"], ["y"], name: "up")],
            initializers: ["w": IRTensorData(floats: [Float](repeating: 0, count: 16), shape: [2, 2, 2, 2])],
            inputs: [IRValueInfo(name: "x", dtype: .float32, shape: nil)],
            outputs: [IRValueInfo(name: "y", dtype: .float32, shape: nil)])
        XCTAssertTrue(PrunableLayer.all(in: graph).isEmpty)
        assertInvalidArgument(try planned(graph, ConvertOptions(pruneLayers: ["up": 0.5])), "ConvTranspose")
    }

    func testPrePrunedWeightsAreMeasuredWithoutPrune() throws {
        // 80 % of every row zero already: sparse storage where the crossover says so, with no --prune.
        let (graph, plan) = try planned(smallCNN(zeroFraction: 0.8), ConvertOptions())
        XCTAssertFalse(plan.report.pruningRequested)
        XCTAssertTrue(plan.report.isWorthShowing)
        XCTAssertEqual(zeros(graph, "w_k3"), zeros(smallCNN(zeroFraction: 0.8), "w_k3"), "nothing pruned")
        XCTAssertEqual(row(plan.report, "k3")?.encoding, .csr(columnIndexWidth: .u16))  // 288 columns
        XCTAssertEqual(row(plan.report, "stem")?.encoding, .csr(columnIndexWidth: .u8))  // 0.79 ≥ 0.75
        XCTAssertEqual(row(plan.report, "dw")?.encoding, .dense, "depthwise never goes sparse")
        XCTAssertEqual(row(plan.report, "k3")?.note, "zeros in source")
        XCTAssertEqual(plan.encodings["w_k3"], .csr(columnIndexWidth: .u16))
        XCTAssertNil(plan.encodings["w_dw"])
        // A model without zeros has nothing to show.
        let (_, dense) = try planned(smallCNN(), ConvertOptions())
        XCTAssertFalse(dense.report.isWorthShowing)
        XCTAssertTrue(dense.encodings.isEmpty)
    }

    func testSummaryRecordsPruningOptions() {
        XCTAssertEqual(ConvertOptions(inputShapes: ["x": [1, 3]]).summary, "input-shape=x=1x3")
        let options = ConvertOptions(prune: 0.9, pruneScope: .global, pruneSkip: [.last, .first],
                                     pruneLayers: ["b": 0.5, "a": 0.25], sparseFormat: .csr)
        XCTAssertEqual(options.summary, "prune=0.9 prune-scope=global prune-skip=first,last prune-layer=a=0.25 "
            + "prune-layer=b=0.5 sparse-format=csr")
        XCTAssertEqual(ConvertOptions(prune: 0.5, pruneSkip: []).summary, "prune=0.5 prune-scope=layer prune-skip=none")
    }
}

// MARK: - Encoding choice

final class PruningTestsEncoding: XCTestCase {
    let policy = SparseEncodingPolicy()

    func testDenseBelowCrossoverSparseAbove() {
        let pointwise = [64, 64, 1, 1]  // 4096 weights
        XCTAssertEqual(policy.encoding(kind: .pointwise, shape: pointwise, zeros: 2457), .dense)  // 0.5999
        XCTAssertEqual(policy.encoding(kind: .pointwise, shape: pointwise, zeros: 2458), .csr(columnIndexWidth: .u8))
        let strided = [32, 32, 3, 3]  // 9216
        XCTAssertEqual(policy.encoding(kind: .stridedSpatial, shape: strided, zeros: 6911), .dense)
        XCTAssertEqual(policy.encoding(kind: .stridedSpatial, shape: strided, zeros: 6912), .csr(columnIndexWidth: .u16))
        XCTAssertEqual(policy.encoding(kind: .spatial, shape: strided, zeros: 6400), .dense)  // 0.694
        XCTAssertEqual(policy.encoding(kind: .spatial, shape: strided, zeros: 6452), .csr(columnIndexWidth: .u16))
        XCTAssertEqual(policy.encoding(kind: .fullyConnected, shape: [100, 70_000], zeros: 3_500_000),
                       .csr(columnIndexWidth: .u32))
        XCTAssertEqual(policy.encoding(kind: .depthwise, shape: [32, 1, 3, 3], zeros: 287), .dense)
        XCTAssertEqual(policy.encoding(kind: .pointwise, shape: pointwise, zeros: 0), .dense)
        XCTAssertEqual(SparseCrossover.provisional[.fullyConnected], 0.5)
        XCTAssertNil(SparseCrossover.provisional[.depthwise])
    }

    func testCOOOnlyWhenSmallerThanCSR() {
        // [64, 8] with 26 nonzeros: CSR 65×4 + 26×5 = 390 bytes, COO 26×6 = 156.
        XCTAssertEqual(policy.encoding(kind: .fullyConnected, shape: [64, 8], zeros: 512 - 26),
                       .coo(rowIndexWidth: .u8, columnIndexWidth: .u8))
        // [64, 16] with 410 nonzeros: CSR 260 + 2050 = 2310, COO 2460.
        XCTAssertEqual(policy.encoding(kind: .fullyConnected, shape: [64, 16], zeros: 1024 - 410),
                       .csr(columnIndexWidth: .u8))
        // Equal sizes stay CSR: 65×4 + n×5 == n×6 at n = 260.
        XCTAssertEqual(policy.encoding(kind: .fullyConnected, shape: [64, 16], zeros: 1024 - 260),
                       .csr(columnIndexWidth: .u8))
        // 300 rows need u16 row indices in COO.
        XCTAssertEqual(policy.encoding(kind: .fullyConnected, shape: [300, 4], zeros: 1200 - 10),
                       .coo(rowIndexWidth: .u16, columnIndexWidth: .u8))
    }

    func testForcedFormats() {
        func forced(_ format: SparseFormat, zeros: Int, kind: SparseLayerKind = .spatial) -> WeightEncoding {
            SparseEncodingPolicy(format: format).encoding(kind: kind, shape: [8, 4, 3, 3], zeros: zeros)
        }
        XCTAssertEqual(forced(.csr, zeros: 1), .csr(columnIndexWidth: .u8))
        XCTAssertEqual(forced(.coo, zeros: 1), .coo(rowIndexWidth: .u8, columnIndexWidth: .u8))
        XCTAssertEqual(forced(.csr, zeros: 200, kind: .depthwise), .csr(columnIndexWidth: .u8))
        XCTAssertEqual(forced(.dense, zeros: 280), .dense)
        XCTAssertEqual(forced(.csr, zeros: 0), .dense, "nothing to gain without zeros")
    }

    func testIndexWidthsAreNarrowest() {
        XCTAssertEqual(policy.encoding(kind: .fullyConnected, shape: [4, 256], zeros: 1000), .csr(columnIndexWidth: .u8))
        XCTAssertEqual(policy.encoding(kind: .fullyConnected, shape: [4, 257], zeros: 1000), .csr(columnIndexWidth: .u16))
        XCTAssertEqual(policy.encoding(kind: .fullyConnected, shape: [4, 65_536], zeros: 200_000),
                       .csr(columnIndexWidth: .u16))
        XCTAssertEqual(policy.encoding(kind: .fullyConnected, shape: [2, 65_537], zeros: 100_000),
                       .csr(columnIndexWidth: .u32))
    }

    func testEncoderWritesValidBlobsAndRejectsNarrowWidths() throws {
        let values: [Float] = [0, 1.5, 0, -0.0, 0, 2, 0, 0, 0, 0, 0, 0, 3, 0, 0, 4]
        var blobs = BlobSection()
        guard case .csr(let csr) = try SparseTensorEncoder.encode(values, shape: [4, 4], as: .csr(columnIndexWidth: .u8),
                                                                  into: &blobs) else { return XCTFail("not CSR") }
        XCTAssertEqual([csr.rows, csr.cols, csr.nonzeros], [4, 4, 4])
        XCTAssertEqual(Array(blobs.bytes[csr.rowPointers.offset..<csr.rowPointers.offset + 20]), le([0, 1, 2, 2, 4] as [UInt32]))
        XCTAssertEqual(Array(blobs.bytes[csr.columnIndices.offset..<csr.columnIndices.offset + 4]), [1, 1, 0, 3])
        XCTAssertEqual(Array(blobs.bytes[csr.values.offset..<csr.values.offset + 16]), leFloats([1.5, 2, 3, 4]))
        for blob in [csr.rowPointers, csr.columnIndices, csr.values] { XCTAssertEqual(blob.offset % 64, 0) }
        guard case .coo(let coo) = try SparseTensorEncoder.encode(
            values, shape: [2, 2, 4], as: .coo(rowIndexWidth: .u8, columnIndexWidth: .u16), into: &blobs)
        else { return XCTFail("not COO") }
        XCTAssertEqual([coo.rows, coo.cols, coo.nonzeros], [2, 8, 4])
        XCTAssertEqual(Array(blobs.bytes[coo.rowIndices.offset..<coo.rowIndices.offset + 4]), [0, 0, 1, 1])
        XCTAssertEqual(Array(blobs.bytes[coo.columnIndices.offset..<coo.columnIndices.offset + 8]), le([1, 5, 4, 7] as [UInt16]))
        var more = BlobSection()
        assertInvalidArgument(try SparseTensorEncoder.encode([Float](repeating: 1, count: 300), shape: [1, 300],
                                                             as: .csr(columnIndexWidth: .u8), into: &more), "u8")
    }
}

// MARK: - Files that run

final class PruningTestsEndToEnd: XCTestCase {
    static func run(_ bytes: [UInt8], _ inputs: [Tensor]) throws -> [Float] {
        let session = try Session(model: try Model(bytes: bytes))
        return try session.run(inputs)[0].floats
    }

    static func maxRelativeError(_ a: [Float], _ b: [Float]) -> Float {
        let scale = max(b.map(\.magnitude).max() ?? 0, 1e-30)
        return zip(a, b).map { ($0 - $1).magnitude }.max()! / scale
    }

    static func encodings(_ bytes: [UInt8]) throws -> [String: StorageEncoding] {
        let model = try Model(bytes: bytes)
        var result: [String: StorageEncoding] = [:]
        for tensor in model.graph.tensors { if let storage = tensor.storage { result[tensor.name] = storage } }
        return result
    }

    func testSparseFileValidatesAndRunsLikeDensePrunedFile() throws {
        // fc1 pruned to 97 %: 61 nonzeros in 64 rows, COO is smaller than CSR.
        let options = ConvertOptions(prune: 0.9, pruneSkip: [.depthwise], pruneLayers: ["fc1": 0.97])
        let sparse = try convert(smallCNN(), options)
        var denseOptions = options
        denseOptions.sparseFormat = .dense
        let dense = try convert(smallCNN(), denseOptions)
        let unpruned = try convert(smallCNN(), ConvertOptions())

        let storage = try Self.encodings(sparse.bytes)
        XCTAssertEqual(storage["w_stem"]?.name, "csr/u8")
        XCTAssertEqual(storage["w_k3"]?.name, "csr/u16")
        guard case .coo(let coo) = storage["w_fc1"] else { return XCTFail("fc1 is \(String(describing: storage["w_fc1"]))") }
        XCTAssertEqual(coo.nonzeros, 64 * 32 - MagnitudePruning.zeroCount(fraction: 0.97, of: 64 * 32))
        if case .dense = storage["w_dw"] {} else { XCTFail("depthwise weight should stay dense") }
        XCTAssertTrue(try Self.encodings(dense.bytes).values.allSatisfy { if case .dense = $0 { return true }; return false })
        XCTAssertLessThan(sparse.bytes.count, dense.bytes.count)

        let model = try Model(bytes: sparse.bytes)
        XCTAssertTrue(model.metadata.contains { $0.key == "convert.options" && $0.value.contains("prune-layer=fc1=0.97") })
        XCTAssertTrue(sparse.report.stages.contains { $0.name == "magnitude-prune" })
        XCTAssertFalse(unpruned.report.stages.contains { $0.name == "magnitude-prune" })

        var random = SplitMix64(state: 99)
        let x = try Tensor(shape: [1, 8, 12, 12], floats: random.floats(8 * 144))
        let ySparse = try Self.run(sparse.bytes, [x])
        let yDense = try Self.run(dense.bytes, [x])
        let yUnpruned = try Self.run(unpruned.bytes, [x])
        XCTAssertEqual(ySparse.count, 10)
        XCTAssertLessThanOrEqual(Self.maxRelativeError(ySparse, yDense), 1e-5)
        XCTAssertGreaterThan(Self.maxRelativeError(ySparse, yUnpruned), 1e-3, "pruning changed nothing")

        // The report agrees with the file.
        let report = sparse.report.pruning
        XCTAssertEqual(row(report, "fc1")?.encoding, .coo(rowIndexWidth: .u8, columnIndexWidth: .u8))
        XCTAssertEqual(row(report, "fc1")?.storedBytes, coo.nonzeros * 6)
        XCTAssertEqual(row(report, "fc1")?.denseBytes, 64 * 32 * 4)
        XCTAssertGreaterThanOrEqual(report.encodingCounts.coo, 1)
        XCTAssertGreaterThanOrEqual(report.encodingCounts.csr, 2)
        XCTAssertEqual(report.denseBytes, report.layers.reduce(0) { $0 + $1.elementCount * 4 })
        XCTAssertLessThan(report.storedBytes, report.denseBytes)
    }

    func testForcedCOOAndCSRRunToo() throws {
        var random = SplitMix64(state: 7)
        let x = try Tensor(shape: [1, 8, 12, 12], floats: random.floats(8 * 144))
        var reference: [Float]?
        for format in [SparseFormat.dense, .csr, .coo] {
            let result = try convert(smallCNN(), ConvertOptions(prune: 0.8, pruneSkip: [], sparseFormat: format))
            let y = try Self.run(result.bytes, [x])
            if let reference { XCTAssertLessThanOrEqual(Self.maxRelativeError(y, reference), 1e-5, format.rawValue) }
            reference = reference ?? y
            let sparseCount = result.report.pruning.layers.filter { $0.encoding != .dense }.count
            XCTAssertEqual(sparseCount, format == .dense ? 0 : 7, format.rawValue)
        }
    }

    static let zoo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("build/zoo")

    /// MobileNetV2 from build/zoo (made by scripts; skipped when absent): 90 % pruned, sparse file vs dense file.
    func testMobileNetV2PrunedRunsLikeDense() throws {
        let path = Self.zoo.appendingPathComponent("mobilenet_v2.onnx").path
        let inputPath = Self.zoo.appendingPathComponent("mobilenet_v2.input.npy").path
        guard FileManager.default.fileExists(atPath: path), FileManager.default.fileExists(atPath: inputPath) else {
            throw XCTSkip("no \(path)")
        }
        let sparse = try Converter.convert(onnxAt: path, options: ConvertOptions(prune: 0.9))
        let dense = try Converter.convert(onnxAt: path, options: ConvertOptions(prune: 0.9, sparseFormat: .dense))
        let report = sparse.report.pruning
        let first = report.layers.first!, last = report.layers.last!
        XCTAssertEqual(first.zeroCount, 0)
        XCTAssertEqual(last.zeroCount, 0)
        XCTAssertEqual(last.opType, "Gemm")
        for layer in report.layers where layer.kind == .depthwise { XCTAssertEqual(layer.zeroCount, 0, layer.node) }
        for layer in report.layers where layer.note.isEmpty {
            XCTAssertEqual(layer.zeroCount, MagnitudePruning.zeroCount(fraction: 0.9, of: layer.elementCount), layer.node)
            XCTAssertNotEqual(layer.encoding, .dense, layer.node)
        }
        XCTAssertLessThan(sparse.bytes.count, dense.bytes.count)
        let input = try NpyArray(contentsOf: inputPath).tensor()
        let ySparse = try Self.run(sparse.bytes, [input])
        let yDense = try Self.run(dense.bytes, [input])
        XCTAssertLessThanOrEqual(Self.maxRelativeError(ySparse, yDense), 1e-5)
    }
}

// MARK: - Command line

final class PruningTestsCLI: XCTestCase {
    private func options(_ arguments: [String]) throws -> ConvertOptions {
        try ConvertCommand.parse(["model.onnx"] + arguments).convertOptions()
    }

    private func assertCLIError(_ arguments: [String], _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try options(arguments), file: file, line: line) { error in
            let message = SparrowCommand.errorMessage(for: error)
            XCTAssertTrue(message.contains(expected), "'\(message)' does not mention '\(expected)'", file: file, line: line)
        }
    }

    func testParsesPruningOptions() throws {
        let defaults = try options([])
        XCTAssertNil(defaults.prune)
        XCTAssertEqual(defaults.pruneScope, .layer)
        XCTAssertEqual(defaults.pruneSkip, PruneSkip.defaults)
        XCTAssertEqual(defaults.sparseFormat, .auto)
        let parsed = try options(["--prune", "0.9", "--prune-scope", "global", "--prune-skip", "first, depthwise",
                                  "--prune-layer", "conv_1_node=0.5", "--prune-layer", "a=b=0", "--sparse-format", "COO"])
        XCTAssertEqual(parsed.prune, 0.9)
        XCTAssertEqual(parsed.pruneScope, .global)
        XCTAssertEqual(parsed.pruneSkip, [.first, .depthwise])
        XCTAssertEqual(parsed.pruneLayers, ["conv_1_node": 0.5, "a=b": 0])
        XCTAssertEqual(parsed.sparseFormat, .coo)
        XCTAssertEqual(try options(["--prune-skip", "none"]).pruneSkip, [])
    }

    func testRejectsMalformedPruningOptions() {
        assertCLIError(["--prune", "1"], "--prune 1.0 is outside [0, 1)")
        assertCLIError(["--prune=-0.5"], "--prune -0.5 is outside [0, 1)")
        assertCLIError(["--prune", "nan"], "outside [0, 1)")
        assertCLIError(["--prune", "lots"], "lots")
        assertCLIError(["--prune-scope", "wide"], "--prune-scope 'wide' is not one of: global, layer")
        assertCLIError(["--prune-skip", "first,bogus"], "'bogus'")
        assertCLIError(["--prune-skip", "first,,last"], "an empty word")
        assertCLIError(["--prune-skip", "none,first"], "'none'")
        assertCLIError(["--prune-layer", "conv"], "is not NAME=FRACTION")
        assertCLIError(["--prune-layer", "=0.5"], "no layer name")
        assertCLIError(["--prune-layer", "conv=abc"], "'abc' is not a number")
        assertCLIError(["--prune-layer", "conv="], "'' is not a number")
        assertCLIError(["--prune-layer", "conv=1.5"], "outside [0, 1)")
        assertCLIError(["--prune-layer", "conv=inf"], "not a number")
        assertCLIError(["--prune-layer", "c=0.1", "--prune-layer", "c=0.2"], "names layer 'c' twice")
        assertCLIError(["--sparse-format", "bsr"], "--sparse-format 'bsr' is not one of: auto, csr, coo, dense")
    }

    func testTableHasARowPerWeightAndTotals() throws {
        let result = try convert(smallCNN(), ConvertOptions(prune: 0.9))
        let lines = PruningTable.render(result.report.pruning)
        XCTAssertEqual(lines.count, 2 + 7 + 1)
        XCTAssertTrue(lines[0].hasPrefix("layer"))
        XCTAssertTrue(lines[0].contains("sparsity"))
        XCTAssertTrue(lines.contains { $0.hasPrefix("stem ") && $0.contains("skip: first") })
        XCTAssertTrue(lines.contains { $0.hasPrefix("k3 ") && $0.contains("90.0%") && $0.contains("csr/u16") })
        XCTAssertTrue(lines.last!.hasPrefix("total (7 weights)"))
    }

    func testUnknownLayerFromTheCommandLine() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("prune-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixture = CLITests.fixtures.appendingPathComponent("conv_3x3/model.onnx")
        guard FileManager.default.fileExists(atPath: fixture.path) else { throw XCTSkip("no conv_3x3 fixture") }
        let command = try ConvertCommand.parse([fixture.path, "-o", directory.appendingPathComponent("m.sparrow").path,
                                                "--prune-layer", "no_such_layer=0.5"])
        XCTAssertThrowsError(try command.run()) { error in
            XCTAssertTrue(SparrowCommand.errorMessage(for: error).contains("--prune-layer names 'no_such_layer'"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("m.sparrow").path))
    }
}
