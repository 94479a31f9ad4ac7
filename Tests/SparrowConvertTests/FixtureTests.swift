import Foundation
import MallocCounter
import XCTest
import Sparrow
import SparrowConvert

/// Every tiny ONNX model under Fixtures/ (made by scripts/make_fixtures.py with ONNX Runtime's outputs) converts,
/// runs, and matches ONNX Runtime within 1e-4 of each output's largest magnitude. No Python needed.
final class FixtureTests: XCTestCase {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func cases() -> [URL] {
        let entries = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
        return entries.filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent("model.onnx").path) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    static func arrays(_ prefix: String, in folder: URL) throws -> [NpyArray] {
        var result: [NpyArray] = []
        while true {
            let path = folder.appendingPathComponent("\(prefix)_\(result.count).npy").path
            guard FileManager.default.fileExists(atPath: path) else { return result }
            result.append(try NpyArray(contentsOf: path))
        }
    }

    func testFixturesMatchONNXRuntime() throws {
        let cases = Self.cases()
        XCTAssertGreaterThan(cases.count, 50, "fixtures missing under \(Self.directory.path)")
        var failures: [String] = []
        for folder in cases {
            let name = folder.lastPathComponent
            do {
                let inputs = try Self.arrays("input", in: folder)
                let expected = try Self.arrays("output", in: folder)
                let converted = try Converter.convert(onnxAt: folder.appendingPathComponent("model.onnx").path)
                let model = try Model(bytes: converted.bytes)
                let tensors = try inputs.map { try $0.tensor() }
                for threads in [1, 2] {
                    let session = try Session(model: model, threads: threads)
                    let outputs = try session.run(tensors)
                    guard outputs.count == expected.count else {
                        failures.append("\(name): \(outputs.count) outputs, expected \(expected.count)")
                        break
                    }
                    for (index, (output, reference)) in zip(outputs, expected).enumerated() {
                        if let problem = Self.compare(output, try reference.tensor()) {
                            failures.append("\(name) output \(index) (\(threads) threads): \(problem)")
                        }
                    }
                }
            } catch {
                failures.append("\(name): \(error)")
            }
        }
        XCTAssertTrue(failures.isEmpty, "\(failures.count) of \(cases.count) fixtures fail:\n" + failures.joined(separator: "\n"))
    }

    /// Every fixture's ops run without heap allocation once planned, with one thread and with two.
    func testFixturesRunWithoutAllocating() throws {
        try XCTSkipIf(malloc_counter_available() == 0, "allocation counting is off under sanitizers")
        var offenders: [String] = []
        for folder in Self.cases() {
            let inputs = try Self.arrays("input", in: folder).map { try $0.tensor() }
            let converted = try Converter.convert(onnxAt: folder.appendingPathComponent("model.onnx").path)
            let model = try Model(bytes: converted.bytes)
            for threads in [1, 2] {
                let session = try Session(model: model, threads: threads)
                var outputs = try session.run(inputs)
                try session.run(inputs, into: &outputs)
                malloc_counter_start()
                try session.run(inputs, into: &outputs)
                let allocations = malloc_counter_stop()
                if allocations > 0 { offenders.append("\(folder.lastPathComponent) (\(threads) threads): \(allocations)") }
            }
        }
        XCTAssertTrue(offenders.isEmpty, "allocations in run(_:into:): " + offenders.joined(separator: ", "))
    }

    /// `nil` when equal within 1e-4 relative to the reference's max magnitude (exact for integers).
    static func compare(_ actual: Tensor, _ reference: Tensor) -> String? {
        guard actual.shape == reference.shape else { return "shape \(actual.shape), expected \(reference.shape)" }
        if reference.dtype.isInteger {
            return actual.int64s == reference.int64s ? nil : "integer values differ"
        }
        let a = actual.floats, b = reference.floats
        let scale = max(b.map(abs).max() ?? 0, 1e-6)
        var worst: Float = 0
        for (x, y) in zip(a, b) {
            if x.isNaN != y.isNaN { return "NaN mismatch" }
            if !x.isNaN { worst = max(worst, abs(x - y)) }
        }
        return worst <= 1e-4 * scale ? nil : "max error \(worst) > 1e-4 × \(scale)"
    }
}
