import Foundation
import Sparrow
import XCTest

@testable import SparrowConvert

// Test classes are named ChannelPruningTests* so that `--filter ChannelPruning` selects all of them.

/// Converts `graph` twice through the full converter: pruned, and masked (the original with the pruned channels'
/// producer weights zeroed).
private func prunedAndMasked(_ graph: IRGraph, fraction: Double, inputShapes: [String: [Int]] = [:],
                             channelMultiple: Int = 0) throws
    -> (pruned: [UInt8], masked: [UInt8], original: [UInt8], report: ChannelPruningReport) {
    let options = ConvertOptions(inputShapes: inputShapes)
    var report: ChannelPruningReport?
    var prunedGraph = graph
    let pruned = try Converter.convert(graph: &prunedGraph, sourceName: "test", sourceSHA256: "", sourceBytes: 0,
                                       options: options) { graph in
        report = try ChannelPruning.apply(to: &graph, fraction: fraction, inputShapes: inputShapes,
                                          channelMultiple: channelMultiple)
    }
    var maskedGraph = graph
    let masked = try Converter.convert(graph: &maskedGraph, sourceName: "test", sourceSHA256: "", sourceBytes: 0,
                                       options: options) { try ChannelPruning.mask(&$0, as: report!) }
    var originalGraph = graph
    let original = try Converter.convert(graph: &originalGraph, sourceName: "test", sourceSHA256: "", sourceBytes: 0,
                                         options: options)
    return (pruned.bytes, masked.bytes, original.bytes, report!)
}

private func runModel(_ bytes: [UInt8], _ inputs: [Tensor]) throws -> [Tensor] {
    try Session(model: try Model(bytes: bytes), threads: 1).run(inputs)
}

/// max |a − b| / max |b| over all outputs.
private func relativeError(_ a: [Tensor], _ b: [Tensor]) -> Double {
    var worst = 0.0
    for (x, y) in zip(a, b) {
        XCTAssertEqual(x.shape, y.shape)
        let scale = max(y.floats.map { Double(abs($0)) }.max() ?? 0, 1e-30)
        let difference = zip(x.floats, y.floats).map { Double(abs($0 - $1)) }.max() ?? 0
        worst = max(worst, difference / scale)
    }
    return worst
}

/// Runs pruned and masked models on seeded random inputs of `shape` and checks they agree within `tolerance`
/// (and that the pruned channels mattered: the masked model differs from the original).
private func assertExact(_ result: (pruned: [UInt8], masked: [UInt8], original: [UInt8], report: ChannelPruningReport),
                         shape: [Int], tolerance: Double = 1e-5, file: StaticString = #filePath, line: UInt = #line) throws {
    var random = SplitMix64(state: 7)
    for _ in 0..<3 {
        let x = try Tensor(shape: shape, floats: random.floats(shape.reduce(1, *), -2, 2))
        let pruned = try runModel(result.pruned, [x])
        let masked = try runModel(result.masked, [x])
        let original = try runModel(result.original, [x])
        XCTAssertLessThanOrEqual(relativeError(pruned, masked), tolerance, "pruned vs masked", file: file, line: line)
        XCTAssertGreaterThan(relativeError(original, masked), 1e-4, "masking changed nothing", file: file, line: line)
    }
}

final class ChannelPruningTestsGraphs: XCTestCase {
    /// conv 3×3 → relu → conv 1×1 with a symbolic batch: the constant folds into the 1×1 bias exactly.
    func testConvReluConvFoldsIntoBias() throws {
        var b = GraphBuilder()
        b.conv("x", "a", inputs: 4, outputs: 16, kernel: 3, pad: 1)
        b.node("Relu", ["a"], "r")
        b.conv("r", "y", inputs: 16, outputs: 8)
        let result = try prunedAndMasked(b.graph(input: [.symbolic("N"), .fixed(4), .fixed(8), .fixed(8)], outputs: ["y"]),
                                         fraction: 0.3)
        let report = result.report
        XCTAssertEqual(report.producers.map(\.node), ["a_node"])
        XCTAssertEqual(report.producers.first?.channelsAfter, 12)
        XCTAssertEqual(report.producers.first?.removedChannels.count, 4)
        XCTAssertEqual(report.biasFolds, 1)
        XCTAssertEqual(report.biasMaps, 0)
        XCTAssertEqual(report.skipped.map(\.node), ["y_node"], "the last conv writes the graph output")
        XCTAssertLessThan(report.macsAfter, report.macsBefore)
        // batch 1: 8·8·16·4·9 + 8·8·8·16 → 12 channels
        XCTAssertEqual(report.macsBefore, 64 * 16 * 36 + 64 * 8 * 16)
        XCTAssertEqual(report.macsAfter, 64 * 12 * 36 + 64 * 8 * 12)
        try assertExact(result, shape: [2, 4, 8, 8])
    }

    /// MobileNetV2's inverted residual without the residual: expand 1×1 → relu6 → dw 3×3 pad 1 stride 2 → relu6 →
    /// project 1×1 → relu → conv 1×1. The removed expand channels reach the project conv unevenly (the padded
    /// depthwise sees less of the constant at the borders): a bias map, added before the project's (fused) relu.
    func testDepthwiseChainNeedsBiasMap() throws {
        var b = GraphBuilder()
        b.conv("x", "e", inputs: 3, outputs: 16)
        b.relu6("e", "e6")
        b.conv("e6", "d", inputs: 16, outputs: 16, kernel: 3, stride: 2, pad: 1, group: 16)
        b.relu6("d", "d6")
        b.conv("d6", "p", inputs: 16, outputs: 10)
        b.node("Relu", ["p"], "pr")
        b.conv("pr", "y", inputs: 10, outputs: 4)
        let result = try prunedAndMasked(b.graph(input: [.fixed(1), .fixed(3), .fixed(9), .fixed(9)], outputs: ["y"]),
                                         fraction: 0.3)
        let report = result.report
        XCTAssertEqual(report.producers.map(\.node), ["e_node", "p_node"])
        XCTAssertEqual(report.producers.map(\.channelsAfter), [12, 7])
        XCTAssertEqual(report.producers.first?.needsBiasMap, true)
        XCTAssertEqual(report.biasMaps, 1, "project conv")
        XCTAssertEqual(report.movedActivations, 1, "the project conv's relu runs after the map")
        XCTAssertEqual(report.biasFolds, 1, "last conv")
        try assertExact(result, shape: [1, 3, 9, 9])

        // The pruned graph: the depthwise conv has 12 groups and the map has the project's output size.
        var g = b.graph(input: [.fixed(1), .fixed(3), .fixed(9), .fixed(9)], outputs: ["y"])
        try PassPipeline.standard(constantFolding: .init(name: "fold") { _ = try ConstantFoldingPass().run(&$0) }).run(&g)
        _ = try ChannelPruning.apply(to: &g, fraction: 0.3, channelMultiple: 0)
        let dw = try XCTUnwrap(g.nodes.first { $0.name == "d_node" })
        XCTAssertEqual(dw.attributes["group"], .int(12))
        XCTAssertEqual(g.initializers[dw.inputs[1]]?.shape, [12, 1, 3, 3])
        let add = try XCTUnwrap(g.nodes.first { $0.opType == "Add" })
        XCTAssertEqual(g.initializers[add.inputs[1]]?.shape, [1, 7, 5, 5])
        XCTAssertEqual(g.nodes.map(\.opType), ["Conv", "Conv", "Conv", "Add", "Relu", "Conv"])
    }

    /// A residual block: the channels of the block input and of the block's last conv are tied by the Add and
    /// stay; the block's first conv is pruned, and its 3×3 padded consumer gets a bias map.
    func testResidualAddKeepsTiedChannels() throws {
        var b = GraphBuilder()
        b.conv("x", "s", inputs: 3, outputs: 8, kernel: 3, pad: 1)
        b.node("Relu", ["s"], "sr")
        b.conv("sr", "a", inputs: 8, outputs: 8, kernel: 3, pad: 1)
        b.node("Relu", ["a"], "ar")
        b.conv("ar", "c", inputs: 8, outputs: 8, kernel: 3, pad: 1)
        b.node("Add", ["c", "sr"], "sum")
        b.node("Relu", ["sum"], "out")
        b.conv("out", "y", inputs: 8, outputs: 4)
        let result = try prunedAndMasked(b.graph(input: [.fixed(1), .fixed(3), .fixed(6), .fixed(6)], outputs: ["y"]),
                                         fraction: 0.3)
        let report = result.report
        XCTAssertEqual(report.producers.map(\.node), ["a_node"])
        XCTAssertEqual(report.producers.first?.channelsAfter, 6)
        XCTAssertEqual(report.biasMaps, 1)
        XCTAssertEqual(report.movedActivations, 0)
        let skipped = Dictionary(uniqueKeysWithValues: report.skipped.map { ($0.node, $0.reason) })
        XCTAssertEqual(Set(skipped.keys), ["s_node", "c_node", "y_node"])
        XCTAssertTrue(skipped["s_node"]!.contains("Add"), skipped["s_node"]!)
        XCTAssertTrue(skipped["c_node"]!.contains("tied"), skipped["c_node"]!)
        try assertExact(result, shape: [1, 3, 6, 6])
    }

    /// Two producers into one Concat (offsets), a max pool and a depthwise conv after it, a 1×1 consumer, and a
    /// classifier: conv → GAP → Flatten → Gemm.
    func testConcatPoolDepthwiseAndClassifier() throws {
        var b = GraphBuilder()
        b.conv("x", "a", inputs: 3, outputs: 8)
        b.node("Relu", ["a"], "ar")
        b.conv("x", "c", inputs: 3, outputs: 6, kernel: 3, pad: 1)
        b.node("Relu", ["c"], "cr")
        b.node("Concat", ["ar", "cr"], "cat", ["axis": .int(1)])
        b.node("MaxPool", ["cat"], "pool", ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])])
        b.conv("pool", "d", inputs: 14, outputs: 14, kernel: 3, pad: 1, group: 14)
        b.conv("d", "h", inputs: 14, outputs: 10)
        b.node("HardSwish", ["h"], "hs")
        b.node("GlobalAveragePool", ["hs"], "gap")
        b.node("Flatten", ["gap"], "flat", ["axis": .int(1)])
        _ = b.constant("fc_w", [5, 10])
        _ = b.constant("fc_b", [5])
        b.node("Gemm", ["flat", "fc_w", "fc_b"], "y", ["transB": .int(1), "alpha": .float(0.7), "beta": .float(1.5)])
        let result = try prunedAndMasked(b.graph(input: [.fixed(1), .fixed(3), .fixed(8), .fixed(8)], outputs: ["y"]),
                                         fraction: 0.3)
        let report = result.report
        XCTAssertEqual(report.producers.map(\.node), ["a_node", "c_node", "h_node"])
        XCTAssertEqual(report.producers.map(\.channelsAfter), [6, 5, 7])
        XCTAssertEqual(report.biasMaps, 1, "h sees the depthwise output of the removed channels")
        XCTAssertEqual(report.biasFolds, 1, "the Gemm")
        try assertExact(result, shape: [1, 3, 8, 8])
    }

    /// conv → GAP → {Flatten → Gemm (transB 0), Reshape [1, C] → MatMul}: features removed from both; the Reshape
    /// shape shrinks; the MatMul gets an Add for its share.
    func testGlobalPoolToGemmAndMatMul() throws {
        var b = GraphBuilder()
        b.conv("x", "a", inputs: 3, outputs: 16, kernel: 3, stride: 2, pad: 1)
        b.node("Relu", ["a"], "ar")
        b.node("GlobalAveragePool", ["ar"], "gap")
        b.node("Flatten", ["gap"], "flat", ["axis": .int(1)])
        _ = b.constant("fc_w", [16, 5])
        b.node("Gemm", ["flat", "fc_w"], "y1")
        b.initializers["shape"] = IRTensorData(int64s: [1, 16], shape: [2])
        b.node("Reshape", ["gap", "shape"], "flat2")
        _ = b.constant("mm_w", [16, 3])
        b.node("MatMul", ["flat2", "mm_w"], "y2")
        let result = try prunedAndMasked(b.graph(input: [.fixed(1), .fixed(3), .fixed(7), .fixed(7)], outputs: ["y1", "y2"]),
                                         fraction: 0.3, channelMultiple: 8)
        let report = result.report
        XCTAssertEqual(report.producers.count, 0, "12 kept rounds up to 16: nothing removed")
        XCTAssertEqual(report.macsAfter, report.macsBefore)
        let rounded = try prunedAndMasked(b.graph(input: [.fixed(1), .fixed(3), .fixed(7), .fixed(7)], outputs: ["y1", "y2"]),
                                          fraction: 0.5, channelMultiple: 8)
        XCTAssertEqual(rounded.report.producers.map(\.channelsAfter), [8])
        XCTAssertEqual(rounded.report.biasFolds, 1)
        XCTAssertEqual(rounded.report.biasMaps, 1, "the MatMul's Add")
        try assertExact(rounded, shape: [1, 3, 7, 7])
    }

    func testRemovalCounts() {
        XCTAssertEqual(ChannelPruning.removalCount(channels: 16, fraction: 0.3, channelMultiple: 0), 4)
        XCTAssertEqual(ChannelPruning.removalCount(channels: 100, fraction: 0.29, channelMultiple: 0), 29)
        XCTAssertEqual(ChannelPruning.removalCount(channels: 2, fraction: 0.99, channelMultiple: 0), 1)
        XCTAssertEqual(ChannelPruning.removalCount(channels: 96, fraction: 0.3, channelMultiple: 8), 24)
        XCTAssertEqual(ChannelPruning.removalCount(channels: 12, fraction: 0.3, channelMultiple: 8), 3, "< 16: plain")
        XCTAssertEqual(ChannelPruning.removalCount(channels: 960, fraction: 0.3, channelMultiple: 8), 288)
    }

    func testBadFractionThrows() {
        var g = GraphBuilder().graph(input: [.fixed(1)], outputs: [])
        XCTAssertThrowsError(try ChannelPruning.apply(to: &g, fraction: 1))
        XCTAssertThrowsError(try ChannelPruning.apply(to: &g, fraction: -0.1))
        XCTAssertThrowsError(try ChannelPruning.apply(to: &g, fraction: .nan))
    }
}

// MARK: - Model zoo

final class ChannelPruningTestsZoo: XCTestCase {
    static let zoo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("build/zoo")

    /// Prunes 30 % of a zoo model's prunable channels and compares with the masked model on the zoo's input.
    /// With SPARROW_CHANNEL_PRUNING_DUMP=dir, writes dir/<name>.pruned.sparrow and dir/<name>.pruning.json for
    /// scripts/check_channel_pruning.py.
    private func check(_ name: String, fixBatch: Bool = true, batch: Int = 1) throws -> ChannelPruningReport {
        let path = Self.zoo.appendingPathComponent("\(name).onnx").path
        let inputPath = Self.zoo.appendingPathComponent("\(name).input.npy").path
        guard FileManager.default.fileExists(atPath: path), FileManager.default.fileExists(atPath: inputPath) else {
            throw XCTSkip("no \(path) (make zoo)")
        }
        let one = try NpyArray(contentsOf: inputPath).tensor()
        let input = try Tensor(shape: [batch] + one.shape.dropFirst(),
                               floats: (0..<batch).flatMap { copy in one.floats.map { $0 * Float(copy + 1) } })
        let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        // MobileNetV2's batch is symbolic: fixing it lets constant folding resolve the classifier's Reshape shape.
        let options = ConvertOptions(inputShapes: name == "mobilenet_v2" && fixBatch ? ["input": input.shape] : [:])
        func convert(_ transform: @escaping (inout IRGraph) throws -> Void) throws -> [UInt8] {
            var graph = try ONNXImporter.load(bytes: data, baseDirectory: Self.zoo.path)
            return try Converter.convert(graph: &graph, sourceName: name, sourceSHA256: "", sourceBytes: data.count,
                                         options: options, transform: transform).bytes
        }
        var report: ChannelPruningReport?
        let pruned = try convert { report = try ChannelPruning.apply(to: &$0, fraction: 0.3, inputShapes: options.inputShapes) }
        let masked = try convert { try ChannelPruning.mask(&$0, as: report!) }
        let yPruned = try runModel(pruned, [input])
        let yMasked = try runModel(masked, [input])
        let error = relativeError(yPruned, yMasked)
        XCTAssertLessThanOrEqual(error, 1e-4, name)
        print("\(name): pruned vs masked, max relative error \(error)")
        XCTAssertLessThan(report!.macsAfter, report!.macsBefore, name)
        print(report!.lines.joined(separator: "\n"))
        if let directory = ProcessInfo.processInfo.environment["SPARROW_CHANNEL_PRUNING_DUMP"], fixBatch {
            try Data(pruned).write(to: URL(fileURLWithPath: directory).appendingPathComponent("\(name).pruned.sparrow"))
            try report!.json().write(to: URL(fileURLWithPath: directory).appendingPathComponent("\(name).pruning.json"))
        }
        return report!
    }

    func testMobileNetV2() throws {
        let report = try check("mobilenet_v2")
        XCTAssertGreaterThanOrEqual(report.producers.count, 17, "every expand conv and the first conv")
    }

    /// Without --input-shape the batch stays symbolic: shapes are planned at batch 1 and 2, and the classifier's
    /// Reshape (its shape computed by Shape → Gather → Concat at run time) stops the last conv's channels.
    func testMobileNetV2SymbolicBatch() throws {
        let report = try check("mobilenet_v2", fixBatch: false, batch: 2)
        XCTAssertEqual(report.producers.count, 18)
        XCTAssertTrue(report.skipped.contains { $0.node == "conv_51_node" && $0.reason.contains("Shape") },
                      "\(report.skipped)")
    }

    func testResNet18() throws {
        let report = try check("resnet18")
        XCTAssertEqual(report.producers.count, 8, "the first conv of every basic block")
    }
}
