import XCTest
@testable import Sparrow
@testable import SparrowConvert
@testable import sparrow_cli

/// `--quantize int8-weights`: the quantizer's arithmetic, the axis per layer kind, the storage written, and that
/// the converted model computes what the f32 model with the decoded weights computes.
final class WeightQuantizationTests: XCTestCase {
    func testSymmetricPerChannelCodes() {
        let weights: [Float] = [0.5, -1.27, 0.01, 0.3, /* channel 1: all zero */ 0, 0, 0, 0, /* channel 2 */ 3, -3, 1.5, 0]
        let q = Int8Weights(weights, shape: [3, 4], axis: 0)
        XCTAssertEqual(q.scales[0], 1.27 / 127)
        XCTAssertEqual(q.scales[1], 1, "a zero channel keeps scale 1")
        XCTAssertEqual(q.scales[2], 3 / 127)
        XCTAssertEqual(Array(q.values[0..<4]), [50, -127, 1, 30])
        XCTAssertEqual(Array(q.values[4..<8]), [0, 0, 0, 0])
        // 1.5 / (3/127) = 63.5 rounds away from zero.
        XCTAssertEqual(Array(q.values[8..<12]), [127, -127, 64, 0])
        for (i, (w, v)) in zip(weights, q.dequantized).enumerated() {
            XCTAssertLessThanOrEqual(abs(w - v), q.scales[i / 4] / 2 * 1.0001, "element \(i)")
        }
        XCTAssertEqual(q.dequantized[4..<8], [0, 0, 0, 0])
    }

    func testAxisOtherThanZeroAndRandomError() {
        var random = SplitMix64(state: 3)
        let weights = random.floats(5 * 6 * 2, -2, 2)
        let q = Int8Weights(weights, shape: [5, 6, 2], axis: 1)
        XCTAssertEqual(q.scales.count, 6)
        XCTAssertEqual(q.inner, 2)
        for c in 0..<6 {
            var peak: Float = 0
            for a in 0..<5 { for b in 0..<2 { peak = max(peak, abs(weights[a * 12 + c * 2 + b])) } }
            XCTAssertEqual(q.scales[c], peak / 127)
        }
        XCTAssertTrue(q.values.allSatisfy { $0 >= -127 })
        let sqnr = Int8Weights.sqnr(original: weights, dequantized: q.dequantized)
        // Uniform weights: about 6.02·8 − 1.25 dB; anything near 40 dB says the codes use their range.
        XCTAssertGreaterThan(sqnr, 35)
        XCTAssertLessThan(sqnr, 55)
        XCTAssertEqual(Int8Weights.sqnr(original: [1, 2], dequantized: [1, 2]), .infinity)
    }

    /// A small CNN with a classifier: conv (bias), conv, flatten, Gemm with transB = 1, MatMul with a constant B.
    private func network() -> IRGraph {
        var g = GraphBuilder()
        g.conv("x", "a", inputs: 3, outputs: 16, kernel: 3, pad: 1)
        g.node("Relu", ["a"], "ar")
        g.conv("ar", "b", inputs: 16, outputs: 24, kernel: 1)
        g.node("GlobalAveragePool", ["b"], "p")
        g.node("Flatten", ["p"], "f")
        let w = g.constant("fc_w", [10, 24])
        let c = g.constant("fc_b", [10])
        g.node("Gemm", ["f", w, c], "logits", ["transB": .int(1)])
        let m = g.constant("mm_w", [10, 7])
        g.node("MatMul", ["logits", m], "y")
        return g.graph(input: [.fixed(2), .fixed(3), .fixed(8), .fixed(8)], outputs: ["y"])
    }

    private func convert(_ graph: IRGraph, _ options: ConvertOptions) throws -> ConversionResult {
        var copy = graph
        return try Converter.convert(graph: &copy, sourceName: "t", sourceSHA256: "", sourceBytes: 0, options: options)
    }

    private func run(_ bytes: [UInt8]) throws -> [Float] {
        let x = try Tensor(shape: [2, 3, 8, 8], floats: (0..<384).map { Float(($0 * 31) % 67) / 33 - 1 })
        return try Session(model: try Model(bytes: bytes)).run([x])[0].floats
    }

    func testConvertedModelComputesTheDecodedWeights() throws {
        let graph = network()
        for prune in [nil, 0.7] as [Double?] {
            let options = ConvertOptions(prune: prune, pruneSkip: [], quantize: .int8Weights)
            let result = try convert(graph, options)
            let report = try XCTUnwrap(result.report.quantization)
            XCTAssertEqual(report.layers.map(\.node), ["a_node", "b_node", "logits_node", "y_node"])
            XCTAssertEqual(report.layers.map(\.axis), prune == nil ? [0, 0, 0, 1] : [0, 0, 0, 0])
            XCTAssertGreaterThan(report.worstSQNR, 30)
            let fidelity = try XCTUnwrap(report.fidelity)
            XCTAssertGreaterThan(fidelity.cosine, 0.999)
            XCTAssertLessThan(fidelity.cosine, 1)

            // The storage: int8 codes, per channel dense, per row for sparse.
            let model = try Model(bytes: result.bytes)
            for name in ["a_w", "b_w", "fc_w", "mm_w"] {
                let storage = try XCTUnwrap(model.graph.tensors.first { $0.name == name }?.storage)
                switch storage {
                case .int8PerChannel(_, _, _, let axis):
                    XCTAssertNil(prune, "\(name) dense")
                    XCTAssertEqual(axis, name == "mm_w" ? 1 : 0)
                case .csr(let csr):
                    XCTAssertNotNil(prune, "\(name) sparse")
                    guard case .int8 = csr.valueType else { return XCTFail("\(name): f32 values") }
                case .coo(let coo):
                    XCTAssertNotNil(prune, "\(name) sparse")
                    guard case .int8 = coo.valueType else { return XCTFail("\(name): f32 values") }
                default:
                    XCTFail("\(name) stored \(storage)")
                }
            }

            // The same function as the f32 model whose weights are the decoded codes.
            let f32 = try convert(graph, ConvertOptions(prune: prune, pruneSkip: []))
            var decoded = graph
            let plan = WeightQuantizationPlan(try pruned(graph, prune), encodings: prune == nil ? [:] : [
                "a_w": .csr(columnIndexWidth: .u8), "b_w": .csr(columnIndexWidth: .u8),
                "fc_w": .csr(columnIndexWidth: .u8), "mm_w": .csr(columnIndexWidth: .u8)])
            decoded = plan.dequantized(try pruned(graph, prune))
            let reference = try run(try convert(decoded, ConvertOptions()).bytes)
            let actual = try run(result.bytes)
            let scale = max(reference.map(abs).max() ?? 1, 1e-6)
            XCTAssertLessThanOrEqual(zip(actual, reference).map { abs($0 - $1) }.max() ?? .infinity, 1e-5 * scale)
            // Payload without the 64-byte blob alignment, which dominates in a model this small: 4 bytes per
            // value become 1, so at least 3x smaller dense, 1.5x sparse (indices and row scales stay).
            XCTAssertLessThan(report.bytesAfter * (prune == nil ? 3 : 3), report.bytesBefore * (prune == nil ? 1 : 2))
            XCTAssertEqual(report.bytesBefore, f32.report.pruning.storedBytes)
        }
    }

    /// `graph` after magnitude pruning of every prunable layer to `fraction` (the converter's own pruning step).
    private func pruned(_ graph: IRGraph, _ fraction: Double?) throws -> IRGraph {
        var copy = graph
        if let fraction { _ = try SparsityPlanner.run(&copy, options: ConvertOptions(prune: fraction, pruneSkip: [])) }
        return copy
    }

    func testBadModeAndCalibrationAreErrors() throws {
        func error(_ arguments: [String]) -> String {
            do {
                var command = try SparrowCommand.parseAsRoot(arguments)
                try command.run()
                return "no error"
            } catch {
                return SparrowCommand.errorMessage(for: error)
            }
        }
        XCTAssertTrue(error(["convert", "m.onnx", "--quantize", "int4"]).contains("modes: int8-weights"))
        // --calibration goes with --quantize; a missing directory is still an error.
        let missing = error(["convert", "m.onnx", "--quantize", "int8-weights", "--calibration", "/nonexistent"])
        XCTAssertTrue(missing.contains("not a directory"), missing)
    }
}
