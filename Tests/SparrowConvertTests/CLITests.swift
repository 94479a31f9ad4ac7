import Foundation
import XCTest
import Sparrow
import SparrowConvert
@testable import sparrow_cli

/// The logic of the `sparrow` command, called in-process: argument parsing, input matching, names of output
/// files, statistics, number and table formats, and whole commands on the fixture models.
final class CLITests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cli-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func assertCLIError<T>(_ body: @autoclosure () throws -> T, _ expected: String,
                           file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            let message = SparrowCommand.errorMessage(for: error)
            XCTAssertTrue(message.contains(expected), "'\(message)' does not mention '\(expected)'", file: file, line: line)
        }
    }

    // MARK: --input-shape

    func testParsesInputShapes() throws {
        XCTAssertTrue(try InputShapes.parse("input=1x3x224x224") == ("input", [1, 3, 224, 224]))
        XCTAssertTrue(try InputShapes.parse("x=1,3,8") == ("x", [1, 3, 8]))
        XCTAssertTrue(try InputShapes.parse("x=7") == ("x", [7]))
        XCTAssertTrue(try InputShapes.parse("x=0x4") == ("x", [0, 4]))
        // The name ends at the last '=', so names may contain one.
        XCTAssertTrue(try InputShapes.parse("a=b=2x3") == ("a=b", [2, 3]))
        XCTAssertEqual(try InputShapes.parseAll(["a=1x2", "b=3"]), ["a": [1, 2], "b": [3]])
        XCTAssertEqual(try InputShapes.parseAll([]), [:])
    }

    func testRejectsMalformedInputShapes() {
        assertCLIError(try InputShapes.parse("1x3x224x224"), "is not NAME=DIMS")
        assertCLIError(try InputShapes.parse("=1x3"), "no input name")
        assertCLIError(try InputShapes.parse("x="), "no dimensions")
        assertCLIError(try InputShapes.parse("x=1xx3"), "'' is not a dimension")
        assertCLIError(try InputShapes.parse("x=1x-3"), "'-3' is not a dimension")
        assertCLIError(try InputShapes.parse("x=1xNx3"), "'N' is not a dimension")
        assertCLIError(try InputShapes.parseAll(["x=1", "x=2"]), "names input 'x' twice")
    }

    func testFormatsShapes() {
        XCTAssertEqual(InputShapes.format([1, 3, 224, 224]), "1x3x224x224")
        XCTAssertEqual(InputShapes.format([5]), "5")
        XCTAssertEqual(InputShapes.format([]), "scalar")
    }

    // MARK: Inputs against the model

    static let signatures = [
        InputSignature(name: "image", dtype: .float32, shape: [.symbolic("N"), .fixed(3), .fixed(8), .fixed(8)]),
        InputSignature(name: "ids", dtype: .int64, shape: [.fixed(2)]),
    ]

    func testMatchesInputsInOrder() throws {
        let image = try NpyArray(dtype: .float32, shape: [4, 3, 8, 8], bytes: [UInt8](repeating: 0, count: 4 * 3 * 64 * 4))
        let ids = try NpyArray(dtype: .int64, shape: [2], bytes: [UInt8](repeating: 0, count: 16))
        let shapes = try ModelLoader.match([("a.npy", image), ("b.npy", ids)], to: Self.signatures)
        XCTAssertEqual(shapes, ["image": [4, 3, 8, 8], "ids": [2]])

        assertCLIError(try ModelLoader.match([("a.npy", image)], to: Self.signatures),
                       "got 1 --input file, the model takes 2 inputs: image (f32, Nx3x8x8), ids (i64, 2)")
        assertCLIError(try ModelLoader.match([("b.npy", ids), ("a.npy", image)], to: Self.signatures),
                       "input 1 is image (f32, Nx3x8x8), but b.npy holds i64 2")
        let wrongSize = try NpyArray(dtype: .float32, shape: [1, 3, 8, 9], bytes: [UInt8](repeating: 0, count: 3 * 72 * 4))
        assertCLIError(try ModelLoader.match([("c.npy", wrongSize), ("b.npy", ids)], to: Self.signatures),
                       "but c.npy holds f32 1x3x8x9")
        let wrongRank = try NpyArray(dtype: .float32, shape: [3, 8, 8], bytes: [UInt8](repeating: 0, count: 3 * 64 * 4))
        assertCLIError(try ModelLoader.match([("d.npy", wrongRank), ("b.npy", ids)], to: Self.signatures),
                       "but d.npy holds f32 3x8x8")
    }

    func testChecksInputShapeOptions() throws {
        try ModelLoader.check(["image": [1, 3, 8, 8]], against: Self.signatures)
        assertCLIError(try ModelLoader.check(["img": [1, 3, 8, 8]], against: Self.signatures),
                       "--input-shape names 'img', but the inputs are: image (f32, Nx3x8x8), ids (i64, 2)")
        assertCLIError(try ModelLoader.check(["image": [1, 3, 8]], against: Self.signatures),
                       "--input-shape gives 1x3x8 for image (f32, Nx3x8x8)")
        XCTAssertEqual(Self.signatures[0].symbolicDimensions, ["N"])
        XCTAssertEqual(Self.signatures[1].symbolicDimensions, [])
        XCTAssertTrue(InputSignature(name: "x", dtype: .float32, shape: nil).accepts([1, 2, 3]))
    }

    // MARK: Output files

    func testSanitizesOutputNames() {
        XCTAssertEqual(OutputNames.sanitize("logits"), "logits")
        XCTAssertEqual(OutputNames.sanitize("a.b-c_D9"), "a.b-c_D9")
        XCTAssertEqual(OutputNames.sanitize("model/output:0"), "model_output_0")
        XCTAssertEqual(OutputNames.sanitize("../../etc/passwd"), ".._.._etc_passwd")
        XCTAssertEqual(OutputNames.sanitize("wahrscheinlichkeit ä"), "wahrscheinlichkeit__")
        XCTAssertEqual(OutputNames.sanitize(""), "_")
        XCTAssertEqual(OutputNames.sanitize("."), "_")
        XCTAssertEqual(OutputNames.sanitize(".."), "__")
        XCTAssertEqual(OutputNames.fileNames(for: ["a/b", "a:b", "a_b", "c"]), ["a_b", "a_b-2", "a_b-3", "c"])
    }

    // MARK: Statistics and formats

    func testLatencyStatisticsMatchNumpy() throws {
        // np.percentile([1, 2, 3, 4], [50, 90]) == [2.5, 3.7]
        let even = try XCTUnwrap(LatencyStatistics([4, 1, 3, 2]))
        XCTAssertEqual(even.median, 2.5, accuracy: 1e-12)
        XCTAssertEqual(even.p90, 3.7, accuracy: 1e-12)
        XCTAssertEqual(even.min, 1)
        XCTAssertEqual(even.max, 4)
        XCTAssertEqual(even.mean, 2.5, accuracy: 1e-12)
        // np.percentile([5, 1, 4, 2, 3], 90) == 4.6
        let odd = try XCTUnwrap(LatencyStatistics([5, 1, 4, 2, 3]))
        XCTAssertEqual(odd.median, 3)
        XCTAssertEqual(odd.p90, 4.6, accuracy: 1e-12)
        let single = try XCTUnwrap(LatencyStatistics([7]))
        XCTAssertEqual(single, LatencyStatistics([7]))
        XCTAssertEqual([single.median, single.p90, single.min, single.mean], [7, 7, 7, 7])
        XCTAssertNil(LatencyStatistics([]))
        XCTAssertEqual(even.line, "median 2.500 ms  p90 3.700 ms  min 1.000 ms  mean 2.500 ms")
    }

    func testFormatsNumbers() {
        XCTAssertEqual(Formatting.compact(0), "0")
        XCTAssertEqual(Formatting.compact(999), "999")
        XCTAssertEqual(Formatting.compact(1000), "1.00K")
        XCTAssertEqual(Formatting.compact(12_345), "12.3K")
        XCTAssertEqual(Formatting.compact(295_000), "295K")
        XCTAssertEqual(Formatting.compact(999_499), "999K")
        XCTAssertEqual(Formatting.compact(999_500), "1.00M")
        XCTAssertEqual(Formatting.compact(14_614_528), "14.6M")
        XCTAssertEqual(Formatting.compact(4_089_184_256), "4.09G")
        XCTAssertEqual(Formatting.compact(-1500), "-1.50K")
        XCTAssertEqual(Formatting.bytes(0), "0 B")
        XCTAssertEqual(Formatting.bytes(1023), "1023 B")
        XCTAssertEqual(Formatting.bytes(1024), "1.00 KiB")
        XCTAssertEqual(Formatting.bytes(78_504), "76.7 KiB")
        XCTAssertEqual(Formatting.bytes(102_500_000), "97.8 MiB")
        XCTAssertEqual(Formatting.grouped(0), "0")
        XCTAssertEqual(Formatting.grouped(999), "999")
        XCTAssertEqual(Formatting.grouped(1000), "1,000")
        XCTAssertEqual(Formatting.grouped(14_614_528), "14,614,528")
        XCTAssertEqual(Formatting.grouped(-1234), "-1,234")
        XCTAssertEqual(Formatting.percent(1, of: 3), "33.3%")
        XCTAssertEqual(Formatting.percent(1, of: 0), "0.0%")
        XCTAssertEqual(Formatting.milliseconds(1.23456), "1.235")
    }

    func testAlignsTableColumns() {
        var table = TextTable([.init("name"), .init("MACs", .right), .init("note")])
        table.append(["conv1", "9.22K", ""])
        table.append(["fc", "164K"])
        XCTAssertEqual(table.render(), [
            "name    MACs  note",
            "-----  -----  ----",
            "conv1  9.22K",
            "fc      164K",
        ])
    }

    // MARK: Previews and profiles

    func testArgmaxPerRow() throws {
        XCTAssertEqual(OutputPreview.argmaxPerRow([0, 3, 1, 5, 5, 2], rows: 2, columns: 3), [1, 0])
        XCTAssertEqual(OutputPreview.argmaxPerRow([-3, -1, -2], rows: 1, columns: 3), [1])
        XCTAssertEqual(OutputPreview.argmaxPerRow([], rows: 0, columns: 3), [])
        let scores = try Tensor(shape: [2, 3], floats: [0.1, 0.7, 0.2, 0.9, 0.05, 0.05])
        XCTAssertEqual(OutputPreview.lines(name: "probs", tensor: scores, valueLimit: 4), [
            "output 'probs': f32 2x3",
            "  first 4 of 6: 0.1, 0.7, 0.2, 0.9",
            "  argmax per row (2 rows): 1 0",
        ])
        let ids = Tensor(zeros: [3], dtype: .int64)
        XCTAssertEqual(OutputPreview.lines(name: "ids", tensor: ids), ["output 'ids': i64 3", "  values: 0, 0, 0"])
    }

    func testProfileSortsNodesAndTotalsKinds() {
        let report = ProfileReport([
            .init(node: "conv1", op: "Conv+relu", kind: "Conv", seconds: 0.002),
            .init(node: "pool", op: "MaxPool", kind: "MaxPool", seconds: 0.001),
            .init(node: "conv2", op: "Conv", kind: "Conv", seconds: 0.006),
            .init(node: "flat", op: "Flatten", kind: "Flatten", seconds: 0.001),
        ])
        XCTAssertEqual(report.nodes.map(\.node), ["conv2", "conv1", "pool", "flat"])
        XCTAssertEqual(report.kinds, [.init(op: "Conv", nodes: 2, seconds: 0.008),
                                      .init(op: "Flatten", nodes: 1, seconds: 0.001),
                                      .init(op: "MaxPool", nodes: 1, seconds: 0.001)])
        XCTAssertEqual(report.totalSeconds, 0.010, accuracy: 1e-12)
        let lines = report.lines()
        XCTAssertEqual(lines.first, "profile: 4 nodes ran, 10.000 ms in nodes")
        XCTAssertTrue(lines.contains("conv2  Conv       6.000  60.0%       60.0%"), lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains("Conv         2  8.000  80.0%"), lines.joined(separator: "\n"))
    }

    func testTimingJSONHasTheDocumentedKeys() throws {
        let statistics = try XCTUnwrap(LatencyStatistics([2, 1]))
        let record = TimingRecord(latencies: [2, 1], statistics: statistics, threads: 2, warmup: 3, isa: "avx2",
                                  model: "m.sparrow")
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(record.encoded())) as? [String: Any])
        XCTAssertEqual(object["latencies_ms"] as? [Double], [2, 1])
        XCTAssertEqual(object["median_ms"] as? Double, 1.5)
        XCTAssertEqual(object["threads"] as? Int, 2)
        XCTAssertEqual(object["isa"] as? String, "avx2")
        XCTAssertEqual(object["model"] as? String, "m.sparrow")
    }

    // MARK: Errors and argument parsing

    func testErrorsAreOneLine() {
        XCTAssertEqual(SparrowCommand.errorMessage(for: SparrowError.inputMismatch("bad")), "input mismatch: bad")
        XCTAssertEqual(SparrowCommand.errorMessage(for: ConvertError.io("cannot read x.onnx")),
                       "I/O error: cannot read x.onnx")
        XCTAssertEqual(SparrowCommand.errorMessage(for: CLIError("first\n  second\n")), "first second")
        XCTAssertThrowsError(try SparrowCommand.parseAsRoot(["run"])) { error in
            let message = SparrowCommand.errorMessage(for: error)
            XCTAssertTrue(message.contains("Missing expected argument '<model>'"), message)
            XCTAssertFalse(message.contains("\n"))
        }
        XCTAssertThrowsError(try SparrowCommand.parseAsRoot(["run", "m.sparrow", "--timing-json", "t.json"])) { error in
            XCTAssertTrue(SparrowCommand.errorMessage(for: error).contains("--timing-json needs --runs"))
        }
        XCTAssertThrowsError(try SparrowCommand.parseAsRoot(["run", "m.sparrow", "--threads", "0"]))
    }

    func testParsesRunOptions() throws {
        let command = try RunCommand.parse(["m.sparrow", "--input", "a.npy", "--input", "b.npy", "--runs", "30",
                                            "--threads", "2", "--timing-json", "t.json", "--profile"])
        XCTAssertEqual(command.inputs, ["a.npy", "b.npy"])
        XCTAssertEqual(command.runs, 30)
        XCTAssertEqual(command.threads, 2)
        XCTAssertNil(command.warmup)
        XCTAssertTrue(command.profile)
        XCTAssertEqual(ConvertCommand.defaultOutputPath(for: "dir/model.onnx"), "dir/model.sparrow")
        XCTAssertEqual(ConvertCommand.defaultOutputPath(for: "model.bin"), "model.bin.sparrow")
        let convert = try ConvertCommand.parse(["m.onnx", "-o", "out.sparrow", "--input-shape", "x=1x3"])
        XCTAssertEqual(convert.output, "out.sparrow")
        XCTAssertEqual(convert.inputShapes, ["x=1x3"])
    }

    // MARK: Whole commands on fixture models

    func testRunWritesOutputsThatMatchONNXRuntime() throws {
        let folder = Self.fixtures.appendingPathComponent("mini_net")
        let directory = try temporaryDirectory()
        let model = directory.appendingPathComponent("mini.sparrow").path
        let convert = try ConvertCommand.parse([folder.appendingPathComponent("model.onnx").path, "-o", model])
        try convert.run()

        // Once from the converted file, once from the ONNX file converted in memory.
        for (index, source) in [model, folder.appendingPathComponent("model.onnx").path].enumerated() {
            let outputs = directory.appendingPathComponent("out\(index)").path
            let run = try RunCommand.parse([source, "--input", folder.appendingPathComponent("input_0.npy").path,
                                            "--output-dir", outputs, "--runs", "2", "--warmup", "1"])
            try run.run()
            let loaded = try Model(contentsOf: model)
            let file = OutputNames.fileNames(for: loaded.outputs.map(\.name))[0] + ".npy"
            let got = try NpyArray(contentsOf: (outputs as NSString).appendingPathComponent(file)).tensor().floats
            let expected = try NpyArray(contentsOf: folder.appendingPathComponent("output_0.npy").path).tensor().floats
            XCTAssertEqual(got.count, expected.count)
            let scale = expected.map(abs).max() ?? 1
            for (a, b) in zip(got, expected) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(scale, 1e-6)) }
        }
    }

    func testRunRejectsTheWrongNumberOfInputs() throws {
        let folder = Self.fixtures.appendingPathComponent("mini_net")
        let input = folder.appendingPathComponent("input_0.npy").path
        let run = try RunCommand.parse([folder.appendingPathComponent("model.onnx").path, "--input", input,
                                        "--input", input])
        assertCLIError(try run.run(), "got 2 --input files, the model takes 1 input: ")
    }

    func testInspectReportsLayersAndTotals() throws {
        let folder = Self.fixtures.appendingPathComponent("conv_bn_relu")
        let input = try NpyArray(contentsOf: folder.appendingPathComponent("input_0.npy").path)
        let result = try Converter.convert(onnxAt: folder.appendingPathComponent("model.onnx").path)
        let model = try Model(bytes: result.bytes)
        let shapes = [model.inputs[0].name: input.shape]
        let session = try Session(model: model, inputShapes: shapes)
        let report = InspectReport(path: "conv_bn_relu.sparrow", session: session, plannedShapes: shapes)

        let conv = try XCTUnwrap(report.layers.first { $0.op.hasPrefix("Conv") })
        XCTAssertEqual(conv.inputShapes, [input.shape])
        XCTAssertEqual(conv.constantShapes?.first?.count, 4, "the weight shape is listed among the constants")
        XCTAssertGreaterThan(conv.macs ?? 0, 0)
        XCTAssertEqual(report.totals.fileBytes, result.bytes.count)
        XCTAssertEqual(report.totals.parameters, report.layers.reduce(0) { $0 + ($1.parameters ?? 0) })
        XCTAssertNotNil(report.totals.arenaBytes)
        XCTAssertTrue(report.metadata.contains { $0.key == "source.name" && $0.value == "model.onnx" })

        let text = report.lines()
        XCTAssertTrue(text.contains { $0.hasPrefix("name ") && $0.contains("MACs") }, text.joined(separator: "\n"))
        XCTAssertTrue(text.contains { $0.contains("  MACs     ") && $0.contains("per run") })
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        let layers = try XCTUnwrap(json["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.count, report.layers.count)
        XCTAssertNotNil(layers.first?["weight_bytes"])
        XCTAssertNotNil((json["totals"] as? [String: Any])?["macs_per_run"])
    }

    func testInspectWithoutShapesNamesTheSymbolicInputs() throws {
        let folder = Self.fixtures.appendingPathComponent("symbolic_batch")
        let result = try Converter.convert(onnxAt: folder.appendingPathComponent("model.onnx").path)
        let model = try Model(bytes: result.bytes)
        let signatures = model.inputs.map { InputSignature(name: $0.name, dtype: $0.dtype, shape: $0.shape) }
        let missing = signatures.filter { !$0.symbolicDimensions.isEmpty }
        XCTAssertFalse(missing.isEmpty, "the fixture declares a symbolic batch")
        let report = InspectReport(path: "symbolic.sparrow", model: model, missing: missing)
        let note = try XCTUnwrap(report.note)
        XCTAssertTrue(note.contains("--input-shape \(missing[0].name)=<N>"), note)
        XCTAssertEqual(report.layers.count, model.graph.nodes.count)
        XCTAssertNil(report.layers.first?.outputShapes)
        XCTAssertNil(report.totals.macsPerRun)
    }
}
