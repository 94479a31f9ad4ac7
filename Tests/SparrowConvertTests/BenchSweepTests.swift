import ArgumentParser
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
import Sparrow
import SparrowConvert
@testable import sparrow_cli

/// `sparrow bench --sweep` on the `mini_net` fixture, called in-process with few runs: the variants and their
/// files, the consistency of report.json, the SVG's structure, fidelity and accuracy with a calibration
/// directory, and argument errors. Nothing here asserts on a time.
final class BenchSweepTests: XCTestCase {
    static let miniNetONNX = BenchCommandTests.miniNetONNX

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// Runs a sweep of `mini_net` into a new directory and returns the directory and report.json's object.
    func sweep(_ arguments: [String]) throws -> (directory: URL, json: [String: Any]) {
        let directory = try temporaryDirectory()
        let command = try BenchCommand.parse([Self.miniNetONNX, "--sweep", "--out", directory.path, "--rounds", "2",
                                              "--runs", "2", "--warmup", "0"] + arguments)
        let sweep = try BenchSweep(command)
        try sweep.write(try sweep.measure())
        let data = try Data(contentsOf: directory.appendingPathComponent("report.json"))
        return (directory, try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any]))
    }

    func variants(_ json: [String: Any]) throws -> [String: [String: Any]] {
        let list = try XCTUnwrap(json["variants"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: list.map { ($0["name"] as? String ?? "", $0) })
    }

    func number(_ object: [String: Any], _ path: String...) throws -> Double {
        var current: Any? = object
        for key in path { current = (current as? [String: Any])?[key] }
        return try XCTUnwrap(current as? Double ?? (current as? Int).map(Double.init), path.joined(separator: "."))
    }

    func testSweepReportsEveryVariantConsistently() throws {
        let (directory, json) = try sweep(["--sparsities", "0.5,0.9", "--prune-channels", "0.3"])
        let list = try XCTUnwrap(json["variants"] as? [[String: Any]])
        XCTAssertEqual(list.compactMap { $0["name"] as? String },
                       ["dense", "prune-0.5", "prune-0.9", "channels-0.3", "int8-weights", "prune-0.9-int8-weights",
                        "int8", "prune-0.9-int8"])
        let byName = try variants(json)
        let available = ["dense", "prune-0.5", "prune-0.9", "channels-0.3", "int8-weights", "prune-0.9-int8-weights"]
        for name in ["int8", "prune-0.9-int8"] {
            XCTAssertEqual(byName[name]?["available"] as? Bool, false, name)
            XCTAssertTrue((byName[name]?["reason"] as? String)?.contains("not available in this build") == true)
            XCTAssertNil(byName[name]?["median_ms"], "\(name) has no figures")
            XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("\(name).sparrow").path))
        }
        XCTAssertEqual((json["settings"] as? [String: Any])?["rounds"] as? Int, 2)
        XCTAssertEqual(json["reference"] as? String, "dense")
        XCTAssertEqual((json["fidelity_inputs"] as? [String: Any])?["random"] as? Bool, true)

        let denseRounds = try XCTUnwrap(byName["dense"]?["round_medians_ms"] as? [Double])
        for name in available {
            let variant = try XCTUnwrap(byName[name])
            XCTAssertEqual(variant["available"] as? Bool, true, name)
            let file = directory.appendingPathComponent("\(name).sparrow").path
            XCTAssertEqual(variant["file"] as? String, "\(name).sparrow")
            let size = try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int
            XCTAssertEqual(variant["file_bytes"] as? Int, size, name)
            XCTAssertNoThrow(try Model(contentsOf: file), name)
            XCTAssertEqual(variant["runs"] as? Int, 4, "2 rounds × 2 runs")
            XCTAssertEqual((variant["latencies_ms"] as? [Double])?.count, 4)
            let rounds = try XCTUnwrap(variant["round_medians_ms"] as? [Double])
            XCTAssertEqual(rounds.count, 2)
            XCTAssertLessThanOrEqual(try number(variant, "round_spread_ms", "min"), try number(variant, "round_spread_ms", "max"))
            // Speed-up: the median over rounds of dense ÷ variant, with its extremes.
            let ratios = zip(denseRounds, rounds).map { $0 / $1 }
            XCTAssertEqual(try number(variant, "speedup_vs_dense", "median"), (ratios[0] + ratios[1]) / 2,
                           accuracy: 1e-9)
            XCTAssertEqual(try number(variant, "speedup_vs_dense", "min"), ratios.min()!, accuracy: 1e-12)
            XCTAssertEqual(try number(variant, "speedup_vs_dense", "max"), ratios.max()!, accuracy: 1e-12)
            XCTAssertLessThanOrEqual(try number(variant, "nonzero_macs"), try number(variant, "macs"))
            XCTAssertGreaterThan(try number(variant, "arena_bytes"), 0)
            XCTAssertGreaterThan(try number(variant, "weight_bytes"), 0)
            let cosine = try number(variant, "fidelity", "cosine")
            XCTAssertTrue((-1...1).contains(cosine), name)
            XCTAssertNil(variant["accuracy"], "no labels, no accuracy")
        }
        let dense = try XCTUnwrap(byName["dense"])
        XCTAssertEqual(try number(dense, "fidelity", "cosine"), 1, "the dense variant against itself")
        XCTAssertEqual(try number(dense, "fidelity", "top1_agreement"), 1)
        XCTAssertEqual(try number(dense, "speedup_vs_dense", "median"), 1)
        XCTAssertEqual(try number(dense, "weight_sparsity"), 0)
        XCTAssertNil(dense["requested_sparsity"])
        // Sparsities: as asked, and more pruning zeroes more weights and more MACs.
        let half = try XCTUnwrap(byName["prune-0.5"]), most = try XCTUnwrap(byName["prune-0.9"])
        XCTAssertEqual(try number(half, "requested_sparsity"), 0.5)
        XCTAssertEqual(try number(most, "requested_sparsity"), 0.9)
        XCTAssertGreaterThan(try number(half, "weight_sparsity"), 0)
        XCTAssertGreaterThan(try number(most, "weight_sparsity"), try number(half, "weight_sparsity"))
        XCTAssertLessThan(try number(most, "weight_sparsity"), 0.9, "first and last layers stay dense")
        XCTAssertLessThan(try number(most, "nonzero_macs"), try number(dense, "macs"))
        let channels = try XCTUnwrap(byName["channels-0.3"])
        XCTAssertLessThan(try number(channels, "macs"), try number(dense, "macs"), "channels removed")
        XCTAssertGreaterThan(try number(channels, "weight_sparsity"), 0)

        let markdown = try String(contentsOf: directory.appendingPathComponent("report.md"), encoding: .utf8)
        for name in available + ["int8", "prune-0.9-int8"] {
            XCTAssertTrue(markdown.contains("| \(name) "), "report.md has a row for \(name)")
        }
        XCTAssertTrue(markdown.contains("not available in this build"))
        XCTAssertTrue(markdown.contains("seeded random"), "says that fidelity used made-up inputs")
        try checkChart(directory.appendingPathComponent("report.svg"), labels: available)
    }

    /// The SVG parses as XML, has one point and one label per measured variant in each panel, and a title.
    func checkChart(_ url: URL, labels: [String]) throws {
        let document = try XMLDocument(contentsOf: url, options: [])
        let root = try XCTUnwrap(document.rootElement())
        XCTAssertEqual(root.name, "svg")
        func elements(_ name: String, class className: String) throws -> [XMLElement] {
            try root.nodes(forXPath: "//*[local-name()='\(name)'][@class='\(className)']").compactMap { $0 as? XMLElement }
        }
        let points = try elements("circle", class: "point")
        XCTAssertEqual(points.count, 2 * labels.count, "one point per variant in each panel")
        let variantNames = points.compactMap { point in
            point.attributes?.first { $0.name == "data-variant" }?.stringValue
        }
        XCTAssertEqual(variantNames.sorted(),
                       (labels + labels).sorted())
        let texts = try elements("text", class: "label")
        XCTAssertEqual(texts.compactMap(\.stringValue).sorted(), (labels + labels).sorted())
        let title = try root.nodes(forXPath: "//*[local-name()='title']").first?.stringValue
        XCTAssertTrue(title?.hasPrefix("model: ") == true, "title names the model (model.onnx): \(title ?? "none")")
        let subtitle = try root.nodes(forXPath: "//*[local-name()='text']").compactMap(\.stringValue)
        XCTAssertTrue(subtitle.contains { $0.contains("1 thread") && $0.contains(SweepReport.cpuModel()) })
    }

    func testCalibrationDirectoryGivesFidelityAndAccuracy() throws {
        let calibration = try temporaryDirectory()
        // Labels: the dense model's own classes, so that dense is exactly right and the labels are checked.
        let dense = try Session(model: try Model(bytes: Converter.convert(onnxAt: Self.miniNetONNX).bytes))
        var labels: [Int64] = []
        var generator = SplitMix64(state: 11)
        for index in 0..<3 {
            let input = try Tensor(shape: [1, 1, 8, 8], floats: generator.normals(64))
            try NpyArray(input).write(to: calibration.appendingPathComponent("sample\(index).npy").path)
            let output = try dense.run([input])[0].floats
            labels.append(Int64(output.indices.max { output[$0] < output[$1] }!))
        }
        try labelFile(labels, calibration)

        let (_, json) = try sweep(["--sparsities", "0.9", "--calibration", calibration.path])
        let inputs = try XCTUnwrap(json["fidelity_inputs"] as? [String: Any])
        XCTAssertEqual(inputs["samples"] as? Int, 3, "labels.npy is not a sample")
        XCTAssertEqual(inputs["labels"] as? Int, 3)
        XCTAssertEqual(inputs["random"] as? Bool, false)
        let byName = try variants(json)
        let denseAccuracy = try XCTUnwrap(byName["dense"]?["accuracy"] as? [String: Any])
        XCTAssertEqual(denseAccuracy["correct"] as? Int, 3)
        XCTAssertEqual(denseAccuracy["total"] as? Int, 3)
        XCTAssertEqual(try number(denseAccuracy, "top1"), 1)
        let pruned = try XCTUnwrap(byName["prune-0.9"])
        let agreement = try number(pruned, "fidelity", "top1_agreement")
        // With the dense classes as labels, accuracy and agreement are the same count.
        XCTAssertEqual(try number(pruned, "accuracy", "top1"), agreement, accuracy: 1e-12)

        // Labels that do not match the outputs' rows are an error that says so.
        try labelFile([0, 1], calibration)
        XCTAssertThrowsError(try sweep(["--sparsities", "none", "--calibration", calibration.path])) { error in
            XCTAssertTrue(SparrowCommand.errorMessage(for: error).contains("2 calibration labels for 3 output rows"),
                          SparrowCommand.errorMessage(for: error))
        }
    }

    /// Writes `labels` as an int64 `labels.npy` into `directory`.
    func labelFile(_ labels: [Int64], _ directory: URL) throws {
        let bytes = labels.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) }
        try NpyArray(dtype: .int64, shape: [labels.count], bytes: bytes)
            .write(to: directory.appendingPathComponent(Calibration.labelsFileName).path)
    }

    func testVariantList() {
        let names = SweepVariant.all(sparsities: [0.5, 0.95], channelFractions: [0.3]).map(\.name)
        XCTAssertEqual(names, ["dense", "prune-0.5", "prune-0.95", "channels-0.3", "int8-weights",
                               "prune-0.95-int8-weights", "int8", "prune-0.95-int8"])
        XCTAssertEqual(SweepVariant.all(sparsities: [0.9, 0.95], channelFractions: []).last?.name, "prune-0.9-int8")
        XCTAssertEqual(SweepVariant.all(sparsities: [], channelFractions: []).map(\.name), ["dense", "int8-weights", "int8"])
        for variant in SweepVariant.all(sparsities: [0.9], channelFractions: [0.3]) {
            let conversion = variant.conversion(base: ConvertOptions(inputShapes: ["x": [1, 1, 8, 8]]))
            switch (variant.kind, conversion) {
            case (.dense, .options(let options)):
                XCTAssertNil(options.prune)
                XCTAssertEqual(options.inputShapes["x"], [1, 1, 8, 8])
            case (.magnitude(let fraction), .options(let options)): XCTAssertEqual(options.prune, fraction)
            case (.channels(let fraction), .options(let options)): XCTAssertEqual(options.pruneChannels, fraction)
            case (.int8Weights, .options(let options)): XCTAssertEqual(options.quantize, .int8Weights)
            case (.sparseInt8Weights(let fraction), .options(let options)):
                XCTAssertEqual(options.prune, fraction)
                XCTAssertEqual(options.quantize, .int8Weights)
            case (.int8, .unavailable), (.sparseInt8, .unavailable): break
            default: XCTFail("\(variant.name): unexpected \(conversion)")
            }
        }
    }

    func testChartTicks() {
        XCTAssertEqual(SweepChart.ticks(upTo: 17.3), [0, 5, 10, 15, 20])
        XCTAssertEqual(SweepChart.ticks(upTo: 100), [0, 20, 40, 60, 80, 100])
        XCTAssertEqual(SweepChart.ticks(upTo: 4.2), [0, 1, 2, 3, 4, 5])
        let unit = SweepChart.ticks(upTo: 0)
        XCTAssertEqual(unit.count, 6, "\(unit)")
        for (tick, expected) in zip(unit, [0, 0.2, 0.4, 0.6, 0.8, 1]) { XCTAssertEqual(tick, expected, accuracy: 1e-12) }
        XCTAssertEqual(SweepChart.tickLabel(7.5, step: 2.5), "7.5")
        XCTAssertEqual(SweepChart.tickLabel(40, step: 20), "40")
        XCTAssertEqual(SweepChart.tickLabel(0.04, step: 0.02), "0.04")
        XCTAssertEqual(SVGWriter.escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;")
    }

    func testRejectsBadSweepArguments() {
        let cases: [([String], String)] = [
            (["m.sparrow", "--sweep"], "give an .onnx file"),
            (["m.onnx", "--sweep", "--json", "x.json"], "leave out --json"),
            (["m.onnx", "--sweep", "--profile"], "cannot --profile"),
            (["m.onnx", "--sweep", "--min-time", "1"], "not --min-time"),
            (["m.onnx", "--sweep", "--rounds", "0"], "--rounds must be at least 1"),
            (["m.onnx", "--sweep", "--sparsities", "0.5,1.2"], "'1.2' is not a fraction in (0, 1)"),
            (["m.onnx", "--sweep", "--sparsities", "0.5,0.5"], "repeats 0.5"),
            (["m.onnx", "--sweep", "--sparsities", "half"], "'half' is not a fraction"),
            (["m.onnx", "--sweep", "--prune-channels", "0"], "--prune-channels '0'"),
            (["m.onnx", "--sweep", "--out", ""], "--out needs a directory"),
            (["m.onnx", "--sparsities", "0.5"], "go with --sweep"),
            (["m.onnx", "--out", "dir"], "go with --sweep"),
            (["m.onnx", "--rounds", "3"], "go with --sweep"),
        ]
        for (arguments, expected) in cases {
            XCTAssertThrowsError(try SparrowCommand.parseAsRoot(["bench"] + arguments)) { error in
                XCTAssertEqual(SparrowCommand.exitCode(for: error), .validationFailure, "\(arguments)")
                let message = SparrowCommand.errorMessage(for: error)
                XCTAssertTrue(message.contains(expected), "'\(message)' does not mention '\(expected)'")
            }
        }
    }
}
