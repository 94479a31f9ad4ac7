import Foundation
import Sparrow
import XCTest

@testable import SparrowConvert
@testable import sparrow_cli

// Test classes are named StructuredPruningTests* so that `--filter StructuredPruningTests` selects all of them.

/// A small residual network, input x [1, 4, 8, 8]:
///
///     stem 3×3 → relu → s
///     A (identity):   s → a1 3×3 → relu → a2 3×3 → Add(a2, s) = sa → relu → ra
///     B (downsample): ra → b1 3×3 s2 → relu → b2 3×3;  shortcut bs 1×1 s2;  Add(b2, bs) = sb → relu → rb
///     C (identity):   rb → c1 1×1 → relu → c2 1×1 → Add(rb, c2) = sc
///     fork (no shortcut): sc → h 1×1, sc → i 1×1 → Add(h, i) = fork → GAP → Flatten → Gemm → y
///
/// - Parameter scales: multiplies the named convs' weights and biases (e.g. `["a2": 1e-4]` makes block A's
///   branch output nearly zero, so that removing it costs almost nothing).
private func residualNet(scales: [String: Float] = [:]) -> IRGraph {
    var b = GraphBuilder()
    b.conv("x", "s0", inputs: 4, outputs: 8, kernel: 3, pad: 1)
    b.node("Relu", ["s0"], "s")
    b.conv("s", "a1", inputs: 8, outputs: 8, kernel: 3, pad: 1)
    b.node("Relu", ["a1"], "a1r")
    b.conv("a1r", "a2", inputs: 8, outputs: 8, kernel: 3, pad: 1)
    b.node("Add", ["a2", "s"], "sa")
    b.node("Relu", ["sa"], "ra")
    b.conv("ra", "b1", inputs: 8, outputs: 16, kernel: 3, stride: 2, pad: 1)
    b.node("Relu", ["b1"], "b1r")
    b.conv("b1r", "b2", inputs: 16, outputs: 16, kernel: 3, pad: 1)
    b.conv("ra", "bs", inputs: 8, outputs: 16, stride: 2)
    b.node("Add", ["b2", "bs"], "sb")
    b.node("Relu", ["sb"], "rb")
    b.conv("rb", "c1", inputs: 16, outputs: 16)
    b.node("Relu", ["c1"], "c1r")
    b.conv("c1r", "c2", inputs: 16, outputs: 16)
    b.node("Add", ["rb", "c2"], "sc")
    b.conv("sc", "h", inputs: 16, outputs: 16)
    b.conv("sc", "i", inputs: 16, outputs: 16)
    b.node("Add", ["h", "i"], "fork")
    b.node("GlobalAveragePool", ["fork"], "gap")
    b.node("Flatten", ["gap"], "flat", ["axis": .int(1)])
    _ = b.constant("fc_w", [5, 16])
    _ = b.constant("fc_b", [5])
    b.node("Gemm", ["flat", "fc_w", "fc_b"], "y", ["transB": .int(1)])
    for (conv, scale) in scales {
        for name in ["\(conv)_w", "\(conv)_b"] {
            let tensor = b.initializers[name]!
            b.initializers[name] = IRTensorData(floats: tensor.floatValues()!.map { $0 * scale }, shape: tensor.shape)
        }
    }
    return b.graph(input: [.fixed(1), .fixed(4), .fixed(8), .fixed(8)], outputs: ["y"])
}

/// `graph` after the converter's standard pass pipeline (BatchNorm folded, activations fused).
private func pipelined(_ graph: IRGraph) throws -> IRGraph {
    var graph = graph
    try PassPipeline.standard(constantFolding: .init(name: "fold") { _ = try ConstantFoldingPass().run(&$0) }).run(&graph)
    return graph
}

private func blocks(_ graph: IRGraph) throws -> [BlockPruning.Block] {
    BlockPruning.blocks(in: graph, shapes: try ChannelPruning.inferShapes(graph, inputShapes: [:]))
}

/// The first output of `graph` on `input`, run by the Sparrow runtime.
private func runGraph(_ graph: IRGraph, _ input: Tensor) throws -> [Float] {
    let (description, blobs) = try GraphLowering.lower(graph)
    let model = try Model(bytes: ModelFileWriter.encode(graph: description, blobs: blobs, metadata: []))
    return try Session(model: model).run([input])[0].floats
}

private func randomInput(_ shape: [Int], seed: UInt64) throws -> Tensor {
    var random = SplitMix64(state: seed)
    return try Tensor(shape: shape, floats: random.floats(shape.reduce(1, *), -2, 2))
}

private func convert(_ graph: IRGraph, _ options: ConvertOptions) throws -> ConversionResult {
    var graph = graph
    return try Converter.convert(graph: &graph, sourceName: "test", sourceSHA256: "", sourceBytes: 0, options: options)
}

/// Fidelity of the model `bytes` against `reference` on `calibration`.
private func fidelity(_ bytes: [UInt8], against reference: [UInt8], on calibration: Calibration) throws -> Fidelity {
    func outputs(_ bytes: [UInt8]) throws -> [FidelityEvaluator.Sample] {
        let session = try Session(model: try Model(bytes: bytes))
        return try calibration.samples.map { inputs in
            let output = try session.run(inputs)[0].floats
            return .init(values: output, classes: [output.indices.max { output[$0] < output[$1] }!])
        }
    }
    return FidelityEvaluator.compare(try outputs(bytes), try outputs(reference))
}

// MARK: - Finding and removing blocks

final class StructuredPruningTestsBlocks: XCTestCase {
    func testIdentityShortcutsAreFoundAndOthersAreNot() throws {
        let g = try pipelined(residualNet())
        let found = try blocks(g)
        // B's shortcut goes through a Conv (downsampling), the fork's Add has no shortcut: neither qualifies.
        XCTAssertEqual(found.map(\.add), ["sa_node", "sc_node"])
        XCTAssertEqual(found[0].input, "s")
        XCTAssertEqual(found[0].branchOutput, "a2")
        XCTAssertEqual(found[0].nodes, ["a1_node", "a2_node"], "the Relu is fused into a1")
        XCTAssertEqual(found[1].input, "rb", "the shortcut is the Add's first input here")
        XCTAssertEqual(found[1].nodes, ["c1_node", "c2_node"])
        // 8·8 pixels · 8 channels · 8·3·3 per conv; 4·4 pixels · 16 channels · 16 per 1×1 conv.
        XCTAssertEqual(found[0].macs, 2 * 64 * 8 * 72)
        XCTAssertEqual(found[1].macs, 2 * 16 * 16 * 16)
    }

    func testBranchReadOutsideTheBlockIsNotACandidate() throws {
        var g = try pipelined(residualNet())
        // a1's output also feeds a second graph output: removing block A would not remove a1.
        g.outputs.append(IRValueInfo(name: "a1r", dtype: .float32, shape: nil))
        XCTAssertEqual(try blocks(g).map(\.add), ["sc_node"])
    }

    func testRemovalEqualsAZeroBranch() throws {
        let g = try pipelined(residualNet())
        let found = try blocks(g)
        let x = try randomInput([1, 4, 8, 8], seed: 3)
        for (block, lastConv) in zip(found, ["a2", "c2"]) {
            var removed = g
            try BlockPruning.remove([block], from: &removed)
            for name in block.nodes + [block.add] {
                XCTAssertFalse(removed.nodes.contains { $0.name == name }, "\(name) is still there")
            }
            XCTAssertNil(removed.initializers["\(lastConv)_w"], "dead weights are dropped")
            // Add(X, 0) = X: the branch's last conv (no activation) with zero weights and bias outputs zeros.
            var zeroed = g
            for name in ["\(lastConv)_w", "\(lastConv)_b"] {
                let tensor = zeroed.initializers[name]!
                zeroed.initializers[name] = IRTensorData(floats: [Float](repeating: 0, count: tensor.elementCount),
                                                         shape: tensor.shape)
            }
            let expected = try runGraph(zeroed, x)
            let got = try runGraph(removed, x)
            XCTAssertEqual(got.count, expected.count)
            for (a, b) in zip(got, expected) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)), block.add) }
            XCTAssertNotEqual(try runGraph(g, x), expected, "the branch mattered")
        }
    }

    func testBlockWritingTheGraphOutputIsRemovedToo() throws {
        var b = GraphBuilder()
        b.conv("x", "s", inputs: 3, outputs: 4, kernel: 3, pad: 1)
        b.conv("s", "c1", inputs: 4, outputs: 4)
        b.conv("c1", "c2", inputs: 4, outputs: 4)
        b.node("Add", ["s", "c2"], "y")
        let g = try pipelined(b.graph(input: [.fixed(1), .fixed(3), .fixed(5), .fixed(5)], outputs: ["y"]))
        let found = try blocks(g)
        XCTAssertEqual(found.map(\.add), ["y_node"])
        var removed = g
        try BlockPruning.remove(found, from: &removed)
        XCTAssertEqual(removed.nodes.map(\.name), ["s_node"])
        XCTAssertEqual(removed.nodes[0].outputs, ["y"], "the shortcut is renamed to the graph output")
        let x = try randomInput([1, 3, 5, 5], seed: 5)
        var shortcutOnly = g
        shortcutOnly.nodes = [g.nodes[0]]
        shortcutOnly.outputs = [IRValueInfo(name: "s", dtype: .float32, shape: nil)]
        XCTAssertEqual(try runGraph(removed, x), try runGraph(shortcutOnly, x))
    }

    func testPicksTheBlockWhoseRemovalCostsLeast() throws {
        // Block A's branch outputs almost nothing; block C's is as large as the rest.
        let g = try pipelined(residualNet(scales: ["a2": 1e-4]))
        let calibration = try Calibration.load(directory: nil, graph: g)
        var pruned = g
        let report = try BlockPruning.apply(to: &pruned, count: 1, calibration: calibration)
        XCTAssertEqual(report.removed, ["sa_node"])
        XCTAssertEqual(report.candidates.map(\.block), ["sa_node", "sc_node"])
        XCTAssertGreaterThan(report.candidates[0].cosine, 0.9999)
        XCTAssertLessThan(report.candidates[1].cosine, report.candidates[0].cosine)
        XCTAssertEqual(report.evaluations, 2)
        XCTAssertEqual(report.fidelity.cosine, report.candidates[0].cosine)
        XCTAssertEqual(report.macsBefore - report.macsAfter, report.candidates[0].macsRemoved)
        XCTAssertFalse(pruned.nodes.contains { $0.name == "a1_node" })
        XCTAssertTrue(pruned.nodes.contains { $0.name == "c1_node" })
        XCTAssertTrue(report.calibration.contains("8 seeded random N(0,1) inputs of 1x4x8x8"), report.calibration)

        // Asking for more blocks than there are removes all, greedily re-scoring the rest, and says so.
        var all = g
        let greedy = try BlockPruning.apply(to: &all, count: 5, calibration: calibration)
        XCTAssertEqual(greedy.removed, ["sa_node", "sc_node"])
        XCTAssertEqual(greedy.evaluations, 2 + 1)
        XCTAssertEqual(greedy.rounds.map(\.round), [1, 2])
        XCTAssertTrue(greedy.note?.contains("only 2") ?? false, "\(greedy.note ?? "no note")")
        XCTAssertFalse(all.nodes.contains { $0.name == "c1_node" })
        XCTAssertThrowsError(try BlockPruning.apply(to: &all, count: 0, calibration: calibration))
    }

    func testConverterRemovesBlocksBeforeMagnitudePruning() throws {
        let result = try convert(residualNet(scales: ["a2": 1e-4]), ConvertOptions(prune: 0.5, pruneBlocks: 1))
        let report = try XCTUnwrap(result.report.blockPruning)
        XCTAssertEqual(report.removed, ["sa_node"])
        XCTAssertEqual(result.report.stages.suffix(3).map(\.name), ["prune-blocks", "magnitude-prune", "fuse-residual-add"])
        XCTAssertFalse(result.report.pruning.layers.contains { $0.node == "a1_node" })
        let model = try Model(bytes: result.bytes)
        XCTAssertTrue(model.metadata.contains { $0.key == "convert.options" && $0.value.contains("prune-blocks=1 ") })
        let json = try JSONSerialization.jsonObject(with: try report.json()) as? [String: Any]
        XCTAssertEqual(json?["removed"] as? [String], ["sa_node"])
        XCTAssertNotNil(json?["macs_before"])
        XCTAssertEqual((json?["candidates"] as? [[String: Any]])?.count, 2)
    }

    func testCalibrationDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("calib-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let g = try pipelined(residualNet())
        XCTAssertThrowsError(try Calibration.load(directory: directory.path, graph: g)) { error in
            XCTAssertTrue("\(error)".contains("no .npy file"), "\(error)")
        }
        for index in 0..<3 {
            try NpyArray(try randomInput([1, 4, 8, 8], seed: UInt64(index))).write(
                to: directory.appendingPathComponent("in\(index).npy").path)
        }
        let calibration = try Calibration.load(directory: directory.path, graph: g)
        XCTAssertEqual(calibration.samples.count, 3)
        XCTAssertFalse(calibration.isRandom)
        try NpyArray(try randomInput([1, 4, 8, 9], seed: 9)).write(to: directory.appendingPathComponent("z.npy").path)
        XCTAssertThrowsError(try Calibration.load(directory: directory.path, graph: g)) { error in
            XCTAssertTrue("\(error)".contains("z.npy"), "\(error)")
        }
    }
}

// MARK: - Sensitivity and target fidelity

final class StructuredPruningTestsSensitivity: XCTestCase {
    func testTableShapeAndPruningMoreHurtsMore() throws {
        let plain = try convert(residualNet(), ConvertOptions())
        let result = try convert(residualNet(), ConvertOptions(sensitivity: true))
        let report = try XCTUnwrap(result.report.sensitivity)
        // Every Conv but the first, and not the last layer (the Gemm): the default skips.
        XCTAssertEqual(report.layers.map(\.node), ["a1_node", "a2_node", "b1_node", "b2_node", "bs_node", "c1_node",
                                                   "c2_node", "h_node", "i_node"])
        XCTAssertEqual(report.levels, [0.5, 0.7, 0.9, 0.95])
        XCTAssertEqual(report.evaluations, 9 * 4)
        for layer in report.layers {
            XCTAssertEqual(layer.cosine.count, 4)
            XCTAssertEqual(layer.top1Agreement.count, 4)
            XCTAssertTrue(layer.cosine.allSatisfy { $0 >= -1 && $0 <= 1 }, layer.node)
            XCTAssertLessThan(layer.cosine[0], 1, "\(layer.node): pruning half the weights changes something")
            XCTAssertGreaterThanOrEqual(layer.cosine[0], layer.cosine[3] - 0.05, "\(layer.node): \(layer.cosine)")
        }
        let mean = { (level: Int) in report.layers.reduce(0) { $0 + $1.cosine[level] } / Double(report.layers.count) }
        XCTAssertGreaterThan(mean(0), mean(1))
        XCTAssertGreaterThan(mean(1), mean(2))
        XCTAssertGreaterThan(mean(2), mean(3))
        XCTAssertEqual(result.bytes, plain.bytes, "measuring changes nothing in the model")
        XCTAssertEqual(result.report.stages.suffix(2).map(\.name), ["sensitivity", "fuse-residual-add"])

        let lines = SensitivityTable.render(report)
        XCTAssertEqual(lines.count, 2 + 9)
        XCTAssertTrue(lines[0].hasPrefix("layer"))
        for title in ["kind", "params", "cos@50", "cos@70", "cos@90", "cos@95", "top1@90"] {
            XCTAssertTrue(lines[0].contains(title), lines[0])
        }
        XCTAssertFalse(lines[0].contains("chosen"))

        // --prune-skip none measures the first and last layers too.
        let all = try convert(residualNet(), ConvertOptions(pruneSkip: [], sensitivity: true))
        XCTAssertEqual(all.report.sensitivity?.layers.count, 11)
    }

    func testTargetFidelityIsMet() throws {
        let unpruned = try convert(residualNet(), ConvertOptions())
        let calibration = try Calibration.load(directory: nil, graph: residualNet())
        for target in [0.9, 0.995] {
            let result = try convert(residualNet(), ConvertOptions(pruneTargetFidelity: target))
            let choice = try XCTUnwrap(result.report.sensitivity?.target)
            XCTAssertGreaterThanOrEqual(choice.fidelity.cosine, target)
            // The file, with its sparse weights, keeps the fidelity the choice measured.
            let measured = try fidelity(result.bytes, against: unpruned.bytes, on: calibration)
            XCTAssertGreaterThanOrEqual(measured.cosine, target - 1e-4, "target \(target)")
            XCTAssertEqual(measured.cosine, choice.fidelity.cosine, accuracy: 1e-4)
            for layer in choice.layers {
                XCTAssertLessThanOrEqual(layer.sparsity, layer.startSparsity, layer.node)
                if layer.sparsity > 0 { XCTAssertGreaterThanOrEqual(layer.singleCosine, target, layer.node) }
                let row = result.report.pruning.layers.first { $0.node == layer.node }
                XCTAssertEqual(row?.zeroCount, MagnitudePruning.zeroCount(fraction: layer.sparsity,
                                                                          of: layer.parameters), layer.node)
            }
            if target == 0.9 { XCTAssertGreaterThan(choice.pruneLayers.count, 0, "target 0.9 prunes something") }
            XCTAssertLessThanOrEqual(choice.evaluations, 1 + Int(log2(Double(max(choice.sequenceLength, 1)))) + 1)
        }
        // A target of 1 leaves every layer dense: no single layer reaches it.
        let exact = try convert(residualNet(), ConvertOptions(pruneTargetFidelity: 1))
        XCTAssertEqual(exact.report.sensitivity?.target?.pruneLayers, [:])
        XCTAssertEqual(exact.report.sensitivity?.target?.evaluations, 0)
        XCTAssertEqual(exact.report.pruning.zeroCount, 0)
    }

    func testProgressIsReported() throws {
        final class Recorder: @unchecked Sendable {
            var events: [PruningProgress] = []
        }
        let recorder = Recorder()
        var g = residualNet()
        _ = try Converter.convert(graph: &g, sourceName: "t", sourceSHA256: "", sourceBytes: 0,
                                  options: ConvertOptions(pruneBlocks: 1, sensitivity: true),
                                  progress: { recorder.events.append($0) })
        let blocks = recorder.events.filter { $0.task == "prune-blocks" }
        let sensitivity = recorder.events.filter { $0.task == "sensitivity" }
        XCTAssertEqual(blocks.map(\.completed), [1, 2])
        XCTAssertEqual(blocks.last?.total, 2)
        // After one block's two convs are gone, 7 of the 9 layers are left to measure.
        XCTAssertEqual(sensitivity.count, 7 * 4)
        XCTAssertEqual(sensitivity.last?.completed, sensitivity.last?.total)
        XCTAssertTrue(sensitivity.first?.item.hasSuffix("@ 50%") ?? false)
    }
}

// MARK: - Command line

final class StructuredPruningTestsCLI: XCTestCase {
    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("struct-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func options(_ arguments: [String]) throws -> ConvertOptions {
        try ConvertCommand.parse(["model.onnx"] + arguments).convertOptions()
    }

    private func assertCLIError(_ arguments: [String], _ expected: String, file: StaticString = #filePath,
                                line: UInt = #line) {
        XCTAssertThrowsError(try options(arguments), file: file, line: line) { error in
            let message = SparrowCommand.errorMessage(for: error)
            XCTAssertTrue(message.contains(expected), "'\(message)' does not mention '\(expected)'", file: file, line: line)
        }
    }

    func testParsesStructuredOptions() throws {
        let defaults = try options([])
        XCTAssertNil(defaults.pruneChannels)
        XCTAssertNil(defaults.pruneBlocks)
        XCTAssertFalse(defaults.sensitivity)
        XCTAssertNil(defaults.pruneTargetFidelity)
        XCTAssertNil(defaults.calibrationDirectory)
        let directory = try temporaryDirectory()
        let parsed = try options(["--prune-channels", "0.3", "--prune-channels-report", "r.json", "--prune-blocks", "2",
                                  "--prune-blocks-report", "b.json", "--sensitivity", "--prune-target-fidelity",
                                  "0.99", "--calibration", directory.path])
        XCTAssertEqual(parsed.pruneChannels, 0.3)
        XCTAssertEqual(parsed.pruneBlocks, 2)
        XCTAssertTrue(parsed.sensitivity)
        XCTAssertEqual(parsed.pruneTargetFidelity, 0.99)
        XCTAssertEqual(parsed.calibrationDirectory, directory.path)
        XCTAssertEqual(parsed.summary, "prune-blocks=2 prune-channels=0.3 prune-target-fidelity=0.99 "
            + "prune-skip=first,last,depthwise calibration=\(directory.lastPathComponent)")
        XCTAssertEqual(try options(["--prune-channels", "0"]).summary, "prune-channels=0.0")
    }

    func testRejectsBadStructuredOptions() throws {
        assertCLIError(["--prune-channels", "1"], "--prune-channels 1.0 is outside [0, 1)")
        assertCLIError(["--prune-channels=-0.1"], "outside [0, 1)")
        assertCLIError(["--prune-channels", "nan"], "outside [0, 1)")
        assertCLIError(["--prune-blocks", "0"], "--prune-blocks 0 is not a positive number")
        assertCLIError(["--prune-blocks", "two"], "two")
        assertCLIError(["--prune-target-fidelity", "1.5"], "outside (0, 1]")
        assertCLIError(["--prune-target-fidelity", "0"], "outside (0, 1]")
        assertCLIError(["--prune-target-fidelity", "0.99", "--prune", "0.5"], "leave out --prune")
        assertCLIError(["--prune-target-fidelity", "0.99", "--prune-layer", "a=0.5"], "leave out --prune")
        assertCLIError(["--prune-channels-report", "r.json"], "--prune-channels-report needs --prune-channels")
        assertCLIError(["--prune-blocks-report", "r.json"], "--prune-blocks-report needs --prune-blocks")
        assertCLIError(["--prune-channels", "0.3", "--prune-channels-report", "model.onnx"], "is the input itself")
        assertCLIError(["--calibration", "/tmp"], "--calibration /tmp is used by --prune-blocks")
        assertCLIError(["--sensitivity", "--calibration", "/no/such/dir"], "is not a directory")
        // The library checks the same ranges for callers that skip the command line.
        XCTAssertThrowsError(try convert(residualNet(), ConvertOptions(pruneChannels: 1)))
        XCTAssertThrowsError(try convert(residualNet(), ConvertOptions(pruneBlocks: 0)))
        XCTAssertThrowsError(try convert(residualNet(), ConvertOptions(prune: 0.5, pruneTargetFidelity: 0.9)))
        XCTAssertThrowsError(try convert(residualNet(), ConvertOptions(calibrationDirectory: "/tmp")))
    }

    /// `sparrow convert mini_net.onnx --prune-channels 0.5 --prune-channels-report R`: Conv_0 keeps 2 of 4
    /// channels, Conv_4 3 of 6; the file runs and the report file is the report's JSON.
    func testPruneChannelsEndToEnd() throws {
        let fixture = CLITests.fixtures.appendingPathComponent("mini_net/model.onnx")
        guard FileManager.default.fileExists(atPath: fixture.path) else { throw XCTSkip("no mini_net fixture") }
        let directory = try temporaryDirectory()
        let output = directory.appendingPathComponent("m.sparrow").path
        let reportPath = directory.appendingPathComponent("channels.json").path
        let command = try ConvertCommand.parse([fixture.path, "-o", output, "--prune-channels", "0.5",
                                                "--prune-channels-report", reportPath])
        try command.run()
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: reportPath))) as? [String: Any])
        XCTAssertEqual(json["fraction"] as? Double, 0.5)
        let producers = try XCTUnwrap(json["producers"] as? [[String: Any]])
        XCTAssertEqual(producers.map { $0["node"] as? String }, ["Conv_0", "Conv_4"])
        XCTAssertEqual(producers.map { $0["channels_after"] as? Int }, [2, 3])
        XCTAssertLessThan(json["macs_after"] as! Int, json["macs_before"] as! Int)

        let model = try Model(contentsOf: output)
        XCTAssertTrue(model.metadata.contains { $0.key == "convert.options" && $0.value == "prune-channels=0.5" })
        let y = try Session(model: model).run([try randomInput([1, 1, 8, 8], seed: 1)])[0].floats
        XCTAssertEqual(y.count, 10)
        XCTAssertEqual(Double(y.reduce(0, +)), 1, accuracy: 1e-5, "softmax output")

        // The same conversion in the library agrees with the file.
        let result = try Converter.convert(onnxAt: fixture.path, options: ConvertOptions(pruneChannels: 0.5))
        XCTAssertEqual(result.bytes, Array(try Data(contentsOf: URL(fileURLWithPath: output))))
        XCTAssertEqual(result.report.channelPruning?.removedChannels, 5)
        XCTAssertTrue(result.report.stages.contains { $0.name == "prune-channels" })
        let lines = ConvertCommand.structuredPruningLines(result.report)
        XCTAssertTrue(lines.contains { $0.hasPrefix("channel pruning 0.50: 2 producers, 5 channels removed") }, "\(lines)")
    }

    func testProgressBar() {
        final class Sink: @unchecked Sendable { var text = "" }
        let plain = Sink()
        let bar = ProgressBar(interactive: false) { plain.text += $0 }
        for completed in 1...20 {
            bar.update(PruningProgress(task: "sensitivity", completed: completed, total: 20, item: "conv"))
        }
        bar.finish()
        let lines = plain.text.split(separator: "\n")
        XCTAssertEqual(lines.first, "sensitivity: 1/20")
        XCTAssertEqual(lines.last, "sensitivity: 20/20")
        XCTAssertEqual(lines.count, 11, "one line per tenth, and the first")
        XCTAssertFalse(plain.text.contains("\r"))

        let terminal = Sink()
        let live = ProgressBar(interactive: true) { terminal.text += $0 }
        live.update(PruningProgress(task: "prune-blocks", completed: 1, total: 4, item: "add_3"))
        live.update(PruningProgress(task: "prune-blocks", completed: 4, total: 4, item: "add_9"))
        live.finish()
        XCTAssertTrue(terminal.text.hasPrefix("\r\u{1B}[2Kprune-blocks [######..................] 1/4  25%  add_3"),
                      terminal.text)
        XCTAssertTrue(terminal.text.contains("[########################] 4/4 100%  add_9"), terminal.text)
        XCTAssertTrue(terminal.text.hasSuffix("\r\u{1B}[2K"), "the bar is cleared at the end")
    }
}
