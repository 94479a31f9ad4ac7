import ArgumentParser
import Foundation
import XCTest
import Sparrow
import SparrowConvert
@testable import sparrow_cli

/// `sparrow bench` on the `mini_net` fixture (Conv BN Relu MaxPool Conv Relu GlobalAveragePool Gemm Softmax on
/// 1x1x8x8), called in-process: the JSON fields and their consistency, the two ways of bounding the timed runs,
/// sparse figures, argument errors and reproducible random inputs.
final class BenchCommandTests: XCTestCase {
    static let miniNet = CLITests.fixtures.appendingPathComponent("mini_net")
    static let miniNetONNX = miniNet.appendingPathComponent("model.onnx").path

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bench-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// Converts `mini_net` with `convert` options into a temporary `.sparrow` file.
    func convertedMiniNet(_ options: [String] = []) throws -> String {
        let path = try temporaryDirectory().appendingPathComponent("mini.sparrow").path
        try ConvertCommand.parse([Self.miniNetONNX, "-o", path] + options).run()
        return path
    }

    func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    /// MACs per run as `sparrow inspect` computes them for the same model and shapes.
    func inspectedMACs(_ path: String, shapes: [String: [Int]]) throws -> Int {
        let session = try Session(model: try Model(contentsOf: path), inputShapes: shapes)
        return try XCTUnwrap(InspectReport(path: path, session: session, plannedShapes: shapes).totals.macsPerRun)
    }

    func testRunsWritesConsistentJSON() throws {
        let model = try convertedMiniNet()
        let jsonPath = try temporaryDirectory().appendingPathComponent("bench.json").path
        try BenchCommand.parse([model, "--runs", "3", "--warmup", "1", "--json", jsonPath]).run()
        let json = try object(Array(try Data(contentsOf: URL(fileURLWithPath: jsonPath))))

        XCTAssertEqual(json["runs"] as? Int, 3)
        XCTAssertEqual((json["latencies_ms"] as? [Double])?.count, 3)
        XCTAssertEqual(json["warmup_runs"] as? Int, 1)
        XCTAssertEqual(json["threads"] as? Int, 1)
        XCTAssertEqual(json["format"] as? String, "sparrow")
        XCTAssertEqual(json["load_stage"] as? String, "mmap + validate")
        XCTAssertEqual(json["seed"] as? Int, 0)
        XCTAssertNil(json["min_time_s"], "--runs alone sets no time bound")
        XCTAssertNil(json["sparse"], "a dense model has no sparse figures")
        XCTAssertNil(json["profile"])

        let figures = try ["min_ms", "median_ms", "p90_ms", "p99_ms", "max_ms", "mean_ms", "stddev_ms", "load_ms",
                           "plan_ms", "timed_s", "effective_gflops"].map { key in
            try XCTUnwrap(json[key] as? Double, "\(key) is missing")
        }
        let (minimum, median, p90, p99, maximum, mean, stddev) =
            (figures[0], figures[1], figures[2], figures[3], figures[4], figures[5], figures[6])
        XCTAssertGreaterThan(minimum, 0)
        XCTAssertLessThanOrEqual(minimum, median)
        XCTAssertLessThanOrEqual(median, p90)
        XCTAssertLessThanOrEqual(p90, p99)
        XCTAssertLessThanOrEqual(p99, maximum)
        XCTAssertTrue((minimum...maximum).contains(mean))
        XCTAssertGreaterThanOrEqual(stddev, 0)
        XCTAssertGreaterThan(figures[7], 0, "load time")
        XCTAssertGreaterThan(figures[8], 0, "plan time")

        let inputs = try XCTUnwrap(json["inputs"] as? [[String: Any]])
        XCTAssertEqual(inputs.count, 1)
        XCTAssertEqual(inputs.first?["shape"] as? [Int], [1, 1, 8, 8])
        XCTAssertEqual(inputs.first?["source"] as? String, "random N(0,1)")
        let name = try XCTUnwrap(inputs.first?["name"] as? String)

        let macs = try XCTUnwrap(json["macs"] as? Int)
        XCTAssertGreaterThan(macs, 0)
        XCTAssertEqual(macs, try inspectedMACs(model, shapes: [name: [1, 1, 8, 8]]))
        XCTAssertEqual(figures[10], 2 * Double(macs) / (median * 1e6), accuracy: 1e-9 * figures[10])
        XCTAssertGreaterThan(try XCTUnwrap(json["arena_bytes"] as? Int), 0)
        XCTAssertGreaterThan(try XCTUnwrap(json["peak_rss_bytes"] as? Int), 0)
        XCTAssertEqual(json["peak_rss_source"] as? String, ProcessMemory.peakResidentSource)
        let fileSize = try FileManager.default.attributesOfItem(atPath: model)[.size] as? Int
        XCTAssertEqual(json["file_bytes"] as? Int, fileSize)
        XCTAssertGreaterThan(try XCTUnwrap(json["weight_bytes"] as? Int), 0)
    }

    func testMinTimeRunsUntilTheTimeHasPassed() throws {
        let report = try BenchCommand.parse([Self.miniNetONNX, "--min-time", "0.05", "--warmup", "0"]).measure()
        XCTAssertGreaterThanOrEqual(report.timedSeconds, 0.05)
        XCTAssertGreaterThanOrEqual(report.runs, BenchCommand.minimumRuns)
        XCTAssertEqual(report.latenciesMs.count, report.runs)
        XCTAssertEqual(report.minTimeSeconds, 0.05)
        XCTAssertEqual(report.format, "onnx")
        XCTAssertEqual(report.loadStage, "ONNX import + convert + validate")
        XCTAssertLessThanOrEqual(report.latenciesMs.reduce(0, +) / 1000, report.timedSeconds)

        // Both bounds: at least as many runs as asked, and at least the time.
        let both = try BenchCommand.parse([Self.miniNetONNX, "--runs", "7", "--min-time", "0.01"]).measure()
        XCTAssertGreaterThanOrEqual(both.runs, 7)
        XCTAssertGreaterThanOrEqual(both.timedSeconds, 0.01)
    }

    func testInputFilesAndStandardOutputJSON() throws {
        let input = Self.miniNet.appendingPathComponent("input_0.npy").path
        let report = try BenchCommand.parse([Self.miniNetONNX, "--input", input, "--runs", "2", "--json", "-"])
            .measure()
        XCTAssertEqual(report.inputs.map(\.source), [input])
        XCTAssertNil(report.seed)
        let json = try object(try report.json())
        XCTAssertNil(json["seed"], "no seed for inputs from files")
        XCTAssertEqual(json["runs"] as? Int, 2)
    }

    func testSparseModelReportsNonzeroAndPerformedMACs() throws {
        let model = try convertedMiniNet(["--prune", "0.9", "--prune-skip", "none", "--sparse-format", "csr"])
        let report = try BenchCommand.parse([model, "--runs", "2", "--profile"]).measure()
        let sparse = try XCTUnwrap(report.sparse, "the pruned model stores weights sparse")
        XCTAssertGreaterThan(sparse.storedSparseWeights, 0)
        XCTAssertGreaterThan(sparse.sparseLayers, 0)
        XCTAssertGreaterThan(sparse.nonzeroMACs, 0)
        XCTAssertLessThan(sparse.nonzeroMACs, report.macs)
        XCTAssertTrue((sparse.nonzeroMACs...report.macs).contains(sparse.executedMACs))
        XCTAssertEqual(sparse.actualGFLOPS,
                       BenchReport.gflops(macs: sparse.executedMACs, milliseconds: report.medianMs))

        // Counted another way: each nonzero weight of a Conv or Gemm meets one input per output position of its
        // channel (output elements / output channels).
        let loaded = try Model(contentsOf: model)
        let session = try Session(model: loaded, inputShapes: [loaded.inputs[0].name: [1, 1, 8, 8]])
        var expected = 0
        for (node, summary) in zip(loaded.graph.nodes, session.layerSummaries()) where summary.macs > 0 {
            guard let weight = node.inputs[1], case .csr(let csr) = loaded.graph.tensors[weight].storage,
                  let output = summary.outputShapes.first else {
                expected += summary.macs
                continue
            }
            expected += output.reduce(1, *) / output[1] * csr.nonzeros
        }
        XCTAssertEqual(sparse.nonzeroMACs, expected)

        let profile = try XCTUnwrap(report.profile)
        XCTAssertFalse(profile.nodes.isEmpty)
        XCTAssertEqual(profile.nodes.reduce(0) { $0 + $1.ms }, profile.totalMs, accuracy: 1e-9)
        let json = try object(try report.json())
        XCTAssertNotNil((json["sparse"] as? [String: Any])?["nonzero_macs"])
        XCTAssertNotNil((json["profile"] as? [String: Any])?["kinds"])
        let text = report.markdown()
        XCTAssertTrue(text.contains { $0.hasPrefix("| nonzero MACs per run") }, text.joined(separator: "\n"))
        XCTAssertTrue(text.contains("### Profile of one run after the timed runs"))
    }

    func testRejectsBadArguments() {
        let cases: [([String], String)] = [
            (["--runs", "0"], "--runs must be at least 1"),
            (["--min-time", "0"], "--min-time must be a positive number"),
            (["--min-time=-1"], "--min-time must be a positive number"),
            (["--min-time", "inf"], "--min-time must be a positive number"),
            (["--threads", "0"], "--threads must be at least 1"),
            (["--warmup=-1"], "--warmup must not be negative"),
            (["--input", "a.npy", "--input-shape", "x=1x3"], "--input-shape sets random inputs"),
            (["--input", "a.npy", "--seed", "3"], "--seed sets random inputs"),
            (["--json", ""], "--json needs a path"),
        ]
        for (arguments, expected) in cases {
            XCTAssertThrowsError(try SparrowCommand.parseAsRoot(["bench", "m.sparrow"] + arguments)) { error in
                XCTAssertEqual(SparrowCommand.exitCode(for: error), .validationFailure, "\(arguments)")
                let message = SparrowCommand.errorMessage(for: error)
                XCTAssertTrue(message.contains(expected), "'\(message)' does not mention '\(expected)'")
            }
        }
        XCTAssertThrowsError(try SparrowCommand.parseAsRoot(["bench", "m.sparrow", "--seed", "-1"]))
    }

    func testMissingFilesAreClearErrors() throws {
        let directory = try temporaryDirectory().path
        for name in ["absent.sparrow", "absent.onnx"] {
            let path = (directory as NSString).appendingPathComponent(name)
            XCTAssertThrowsError(try BenchCommand.parse([path, "--runs", "1"]).measure()) { error in
                let message = SparrowCommand.errorMessage(for: error)
                XCTAssertTrue(message.contains(path), message)
            }
        }
        let missingInput = (directory as NSString).appendingPathComponent("absent.npy")
        XCTAssertThrowsError(try BenchCommand.parse([Self.miniNetONNX, "--input", missingInput]).measure()) { error in
            XCTAssertTrue(SparrowCommand.errorMessage(for: error).contains(missingInput))
        }
        XCTAssertThrowsError(try BenchCommand.parse([Self.miniNetONNX, "--input-shape", "nope=1x1x8x8"]).measure()) {
            XCTAssertTrue(SparrowCommand.errorMessage(for: $0).contains("--input-shape names 'nope'"))
        }
    }

    func testSeededRandomInputsAreReproducible() throws {
        let shapes = [[1, 3, 4, 5], [2, 7]]
        let first = try RandomInputs.tensors(shapes, seed: 7)
        let again = try RandomInputs.tensors(shapes, seed: 7)
        let other = try RandomInputs.tensors(shapes, seed: 8)
        XCTAssertEqual(first.map(\.shape), shapes)
        XCTAssertEqual(first.map(\.floats), again.map(\.floats))
        XCTAssertNotEqual(first.map(\.floats), other.map(\.floats))
        XCTAssertNotEqual(first[0].floats.prefix(14), first[1].floats[...], "inputs continue one stream")
        // Whole commands: the same seed times the same data, another seed other data.
        func digests(_ seed: String) throws -> [String] {
            try BenchCommand.parse([Self.miniNetONNX, "--runs", "1", "--warmup", "0", "--seed", seed]).measure()
                .inputs.map(\.sha256)
        }
        XCTAssertEqual(try digests("5"), try digests("5"))
        XCTAssertNotEqual(try digests("5"), try digests("6"))
        let expected = try RandomInputs.tensors([[1, 1, 8, 8]], seed: 5)[0].withUnsafeBytes { bytes in
            var digest = SHA256()
            digest.update(bytes)
            return SHA256.hex(digest.finalize())
        }
        XCTAssertEqual(try digests("5"), [expected])
    }

    func testRandomInputShapes() throws {
        let batch = InputSignature(name: "x", dtype: .float32, shape: [.symbolic("N"), .fixed(3), .fixed(4)])
        XCTAssertEqual(try RandomInputs.shapes(given: [:], signatures: [batch]), ["x": [1, 3, 4]])
        XCTAssertEqual(try RandomInputs.shapes(given: ["x": [2, 3, 4]], signatures: [batch]), ["x": [2, 3, 4]])
        let image = InputSignature(name: "x", dtype: .float32, shape: [.fixed(1), .symbolic("H")])
        XCTAssertThrowsError(try RandomInputs.shapes(given: [:], signatures: [image])) {
            XCTAssertTrue(SparrowCommand.errorMessage(for: $0).contains("--input-shape x=1x<H>"))
        }
        let tokens = InputSignature(name: "ids", dtype: .int64, shape: [.fixed(4)])
        XCTAssertThrowsError(try RandomInputs.shapes(given: [:], signatures: [tokens])) {
            XCTAssertTrue(SparrowCommand.errorMessage(for: $0).contains("random inputs are float32 only"))
        }
    }

    func testLatencyPercentilesAndDeviationMatchNumpy() throws {
        // np.percentile([1, 2, 3, 4], 99) == 3.97; np.std([1, 2, 3, 4]) == sqrt(1.25)
        let statistics = try XCTUnwrap(LatencyStatistics([4, 1, 3, 2]))
        XCTAssertEqual(statistics.p99, 3.97, accuracy: 1e-12)
        XCTAssertEqual(statistics.standardDeviation, 1.25.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(LatencyStatistics([7])?.standardDeviation, 0)
    }

    func testMarkdownTable() {
        var table = MarkdownTable([.init("figure"), .init("value", .right)])
        table.append(["median", "1.000 ms"])
        table.append(["a|b", "2"])
        XCTAssertEqual(table.render(), [
            "| figure |    value |",
            "|--------|---------:|",
            "| median | 1.000 ms |",
            "| a\\|b   |        2 |",
        ])
    }
}
