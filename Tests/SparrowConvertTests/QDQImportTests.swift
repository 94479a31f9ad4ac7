import XCTest
@testable import Sparrow
@testable import SparrowConvert

/// QDQ models: constant DequantizeLinear folding, QuantizeLinear → DequantizeLinear pairs as QuantizeDequantize,
/// and the runtime op's rounding.
final class QDQImportTests: XCTestCase {
    private func tensor(_ dtype: DType, _ values: [Int64], _ shape: [Int]) -> IRTensorData {
        let bytes: [UInt8]
        switch dtype {
        case .int8: bytes = values.map { UInt8(bitPattern: Int8($0)) }
        case .uint8: bytes = values.map { UInt8($0) }
        case .int32: bytes = values.flatMap { withUnsafeBytes(of: Int32($0).littleEndian, Array.init) }
        default: fatalError("not a quantized type")
        }
        return IRTensorData(dtype: dtype, shape: shape, bytes: bytes)
    }

    func testConstantDequantizeLinearFolds() throws {
        var g = graph(nodes: [
            node("DequantizeLinear", ["wq", "ws"], ["w"], name: "dq_w", ["axis": .int(0)]),
            node("DequantizeLinear", ["bq", "bs", "bz"], ["b"], name: "dq_b"),
            node("Conv", ["x", "w", "b"], ["y"], name: "conv"),
        ], initializers: [
            "wq": tensor(.int8, [1, -2, 3, -128, 127, 0], [2, 3, 1, 1]), "ws": floats([0.5, 0.25], [2]),
            "bq": tensor(.int32, [100, -7], [2]), "bs": floats([0.01], []), "bz": tensor(.int32, [3], []),
        ])
        try QDQPass().run(&g)
        XCTAssertEqual(g.nodes.map(\.opType), ["Conv"])
        XCTAssertEqual(g.initializers["w"]?.floatValues(), [0.5, -1, 1.5, -32, 31.75, 0])
        XCTAssertEqual(g.initializers["b"]?.floatValues(), [Float(97) * 0.01, Float(-10) * 0.01])
        XCTAssertEqual(g.initializers["w"]?.shape, [2, 3, 1, 1])
    }

    /// Through the converter: the folded weight is stored as its int8 codes (not f32), and the model computes the
    /// decoded weights.
    func testImportedWeightsKeepTheirInt8Codes() throws {
        let codes: [Int64] = (0..<72).map { (i: Int) -> Int64 in Int64((i * 37) % 255 - 127) }
        var g = IRGraph(name: "t", opsetVersion: 13, nodes: [
            node("DequantizeLinear", ["wq", "ws", "wz"], ["w"], name: "dq_w", ["axis": .int(0)]),
            node("Conv", ["x", "w"], ["y"], name: "conv", ["pads": .ints([1, 1, 1, 1])]),
        ], initializers: [
            "wq": tensor(.int8, codes, [4, 2, 3, 3]), "ws": floats([0.5, 0.25, 0.125, 1], [4]),
            "wz": tensor(.int8, [0, 0, 0, 0], [4]),
        ], inputs: [IRValueInfo(name: "x", dtype: .float32, shape: [.fixed(1), .fixed(2), .fixed(5), .fixed(5)])],
           outputs: [IRValueInfo(name: "y", dtype: .float32, shape: nil)])
        let result = try Converter.convert(graph: &g, sourceName: "t", sourceSHA256: "", sourceBytes: 0,
                                           options: ConvertOptions())
        let model = try Model(bytes: result.bytes)
        let storage = try XCTUnwrap(model.graph.tensors.first { $0.name == "w" }?.storage)
        guard case .int8PerChannel(_, _, nil, 0) = storage else { return XCTFail("stored \(storage)") }
        let x = try Tensor(shape: [1, 2, 5, 5], floats: (0..<50).map { Float($0 % 7) - 3 })
        let y = try Session(model: model).run([x])[0].floats
        // Centre output of channel 3 (scale 1): the plain sum of its codes times the input window.
        let input = x.floats
        var expected: Float = 0
        for c in 0..<2 {
            for ky in 0..<3 {
                for kx in 0..<3 {
                    let code: Int64 = codes[((6 + c) * 3 + ky) * 3 + kx]
                    let pixel: Float = input[c * 25 + (1 + ky) * 5 + 1 + kx]
                    expected += Float(code) * pixel
                }
            }
        }
        XCTAssertEqual(y[3 * 25 + 2 * 5 + 2], expected)
    }

    /// Malformed constants are errors, not crashes.
    func testMalformedDequantizeLinearIsAnError() {
        for (scale, zeroPoint) in [(floats([], [0]), tensor(.int8, [], [0])),
                                   (floats([0.5, 0.5, 0.5], [3]), tensor(.int8, [0, 0, 0], [3]))] {
            var g = graph(nodes: [node("DequantizeLinear", ["wq", "ws", "wz"], ["w"], name: "dq", ["axis": .int(0)]),
                                  node("Conv", ["x", "w"], ["y"], name: "conv")],
                          initializers: ["wq": tensor(.int8, [1, 2, 3, 4], [2, 2, 1, 1]), "ws": scale, "wz": zeroPoint])
            XCTAssertThrowsError(try QDQPass().run(&g)) { error in
                XCTAssertTrue("\(error)".contains("DequantizeLinear 'dq'"), "\(error)")
            }
        }
    }

    func testActivationPairsBecomeQuantizeDequantize() throws {
        var g = graph(outputs: ["y", "z"], nodes: [
            node("QuantizeLinear", ["x", "s", "zp"], ["q"], name: "q"),
            node("DequantizeLinear", ["q", "s", "zp"], ["d1"], name: "dq1"),
            node("DequantizeLinear", ["q", "s", "zp"], ["d2"], name: "dq2"),
            node("Relu", ["d1"], ["y"]),
            node("Sigmoid", ["d2"], ["z"]),
        ], initializers: ["s": floats([0.1], []), "zp": tensor(.uint8, [128], [])])
        try QDQPass().run(&g)
        XCTAssertEqual(g.nodes.map(\.opType), ["QuantizeDequantize", "QuantizeDequantize", "Relu", "Sigmoid"])
        XCTAssertEqual(g.nodes[0].inputs, ["x"])
        XCTAssertEqual(g.nodes[0].outputs, ["d1"])
        XCTAssertEqual(g.nodes[0].attributes["scale"], .float(0.1))
        XCTAssertEqual(g.nodes[0].attributes["zero_point"], .int(128))
        XCTAssertEqual(g.nodes[0].attributes["qmin"], .int(0))
        XCTAssertEqual(g.nodes[0].attributes["qmax"], .int(255))
    }

    func testPairsThatCannotBeMatchedStay() throws {
        // Different scales on the two sides, and a Q read by something other than DequantizeLinear.
        var g = graph(outputs: ["y", "z"], nodes: [
            node("QuantizeLinear", ["x", "s", "zp"], ["q"], name: "q"),
            node("DequantizeLinear", ["q", "s2", "zp"], ["y"], name: "dq"),
            node("QuantizeLinear", ["x", "s", "zp8"], ["q2"], name: "q2"),
            node("Identity", ["q2"], ["z"]),
        ], initializers: ["s": floats([0.1], []), "s2": floats([0.2], []), "zp": tensor(.uint8, [0], []),
                          "zp8": tensor(.int8, [0], [])])
        try QDQPass().run(&g)
        XCTAssertEqual(g.nodes.map(\.opType), ["QuantizeLinear", "DequantizeLinear", "QuantizeLinear", "Identity"])
        XCTAssertThrowsError(try SupportedOps().run(&g)) { error in
            XCTAssertTrue("\(error)".contains("QuantizeLinear"), "\(error)")
        }
    }

    /// The runtime op against a straightforward evaluation: x / scale rounded half to even, plus the zero point,
    /// saturated, and back.
    func testQuantizeDequantizeRounding() throws {
        for (zeroPoint, qmin, qmax) in [(Int64(128), Int64(0), Int64(255)), (0, -128, 127), (3, 0, 255)] {
            let scale: Float = 0.25
            var b = ModelBuilder()
            let x = b.input("x", [.fixed(1), .fixed(41)])
            let y = b.value("y")
            b.node(.quantizeDequantize, "qd", [x], [y], ["scale": .float(scale), "zero_point": .int(zeroPoint),
                                                         "qmin": .int(qmin), "qmax": .int(qmax)])
            b.outputs = [y]
            let session = try Session(model: try Model(bytes: b.encode()))
            // Ties at ±0.125, ±0.375 (half steps), values far outside the range, a NaN-free sweep.
            let inputs: [Float] = [0, 0.125, -0.125, 0.375, -0.375, 0.625, 1e6, -1e6, 31.9, -32.1, 63.9]
                + (0..<30).map { Float($0 - 15) * 0.1 + 0.01 }
            let out = try session.run([try Tensor(shape: [1, 41], floats: inputs)])[0].floats
            for (value, got) in zip(inputs, out) {
                var q = (value / scale).rounded(.toNearestOrEven) + Float(zeroPoint)
                q = min(max(q, Float(qmin)), Float(qmax))
                XCTAssertEqual(got, (q - Float(zeroPoint)) * scale, "x = \(value), zero point \(zeroPoint)")
            }
        }
        var bad = ModelBuilder()
        let x = bad.input("x", [.fixed(4)])
        let y = bad.value("y")
        bad.node(.quantizeDequantize, "qd", [x], [y], ["scale": .float(0), "zero_point": .int(0)])
        bad.outputs = [y]
        XCTAssertThrowsError(try Session(model: try Model(bytes: bad.encode())))
    }
}
