import XCTest
@testable import Sparrow

final class PoolingOpsTests: XCTestCase {
    typealias R = OpRunner

    /// The 1×1×5×7 input of the literal cases: 0…34 with every third value negated.
    private var ramp: HostValue {
        R.floats((0..<35).map { Float($0) * ($0 % 3 == 0 ? -1 : 1) }, [1, 1, 5, 7])
    }

    /// Outputs of ONNX Runtime 1.32 (opset 21) for `ramp`, generated once with a script; they pin padding,
    /// ceil_mode, dilations, auto_pad and count_include_pad to the reference implementation.
    private let onnxRuntimeCases: [(OpKind, [String: Attribute], [Int], [Float])] = [
        (.maxPool, ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])], [1, 1, 3, 4], [8.0, 10.0, 11.0, 13.0, 22.0, 23.0, 26.0, 26.0, 29.0, 31.0, 32.0, 34.0]),
        (.maxPool, ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2]), "ceil_mode": .int(1)], [1, 1, 3, 4], [8.0, 10.0, 11.0, 13.0, 22.0, 23.0, 26.0, 20.0, 29.0, 31.0, 32.0, 34.0]),
        (.maxPool, ["kernel_shape": .ints([3, 2]), "strides": .ints([2, 3]), "pads": .ints([1, 0, 1, 1]), "ceil_mode": .int(1)], [1, 1, 3, 3], [8.0, 11.0, 13.0, 22.0, 25.0, 20.0, 29.0, 32.0, 34.0]),
        (.maxPool, ["kernel_shape": .ints([2, 2]), "dilations": .ints([2, 2]), "strides": .ints([1, 2])], [1, 1, 3, 3], [16.0, 16.0, 20.0, 23.0, 25.0, 25.0, 28.0, 32.0, 34.0]),
        (.maxPool, ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "auto_pad": .string("SAME_UPPER")], [1, 1, 3, 4], [8.0, 10.0, 11.0, 13.0, 22.0, 23.0, 26.0, 26.0, 29.0, 31.0, 32.0, 34.0]),
        (.maxPool, ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2]), "auto_pad": .string("SAME_LOWER")], [1, 1, 3, 4], [-0.0, 2.0, 4.0, 5.0, 14.0, 16.0, 17.0, 20.0, 28.0, 29.0, 32.0, 34.0]),
        (.averagePool, ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])], [1, 1, 3, 4], [4.0, 1.5, 2.5, 0.0, 2.5, 5.333333492279053, 6.0, 6.5, 14.5, 8.5, 9.5, 0.0]),
        (.averagePool, ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]), "count_include_pad": .int(1)], [1, 1, 3, 4], [1.7777777910232544, 1.0, 1.6666666269302368, 0.0, 1.6666666269302368, 5.333333492279053, 6.0, 4.333333492279053, 6.44444465637207, 5.666666507720947, 6.333333492279053, 0.0]),
        (.averagePool, ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2]), "ceil_mode": .int(1)], [1, 1, 3, 4], [4.0, 0.0, 2.0, 3.5, 0.0, 8.0, 13.0, -3.5, 28.5, 0.5, -0.5, 34.0]),
        (.averagePool, ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2]), "ceil_mode": .int(1), "count_include_pad": .int(1)], [1, 1, 3, 4], [4.0, 0.0, 2.0, 3.5, 0.0, 8.0, 13.0, -3.5, 28.5, 0.5, -0.5, 34.0]),
        (.averagePool, ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 0, 0]), "ceil_mode": .int(1), "count_include_pad": .int(1)], [1, 1, 3, 4], [1.7777777910232544, 1.0, 1.6666666269302368, 0.0, 1.6666666269302368, 5.333333492279053, 6.0, 6.5, 9.666666984558105, 8.5, 9.5, 0.0]),
        (.averagePool, ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "auto_pad": .string("SAME_UPPER"), "count_include_pad": .int(1)], [1, 1, 3, 4], [1.7777777910232544, 1.0, 1.6666666269302368, 0.0, 1.6666666269302368, 5.333333492279053, 6.0, 4.333333492279053, 6.44444465637207, 5.666666507720947, 6.333333492279053, 0.0]),
        (.averagePool, ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "auto_pad": .string("SAME_UPPER")], [1, 1, 3, 4], [4.0, 1.5, 2.5, 0.0, 2.5, 5.333333492279053, 6.0, 6.5, 14.5, 8.5, 9.5, 0.0]),
        (.averagePool, ["kernel_shape": .ints([3, 2]), "strides": .ints([1, 2]), "auto_pad": .string("VALID")], [1, 1, 3, 3], [2.5, 5.5, 1.5, 2.5, 5.5, 8.5, 9.5, 5.5, 8.5]),
        (.averagePool, ["kernel_shape": .ints([2, 2]), "dilations": .ints([2, 1]), "strides": .ints([1, 1]), "pads": .ints([1, 1, 1, 1]), "count_include_pad": .int(1)], [1, 1, 5, 8], [1.75, 3.75, -0.25, 0.25, 5.25, -0.25, 0.25, 3.25, 3.5, 0.0, 1.0, 8.0, 0.0, 2.5, 9.5, 3.5, -3.5, 4.0, 11.0, 0.0, 5.5, 12.5, 0.0, -3.5, 10.5, 14.0, 0.0, 8.5, 15.5, 0.0, 10.0, 13.5, -5.25, 0.25, 11.25, -0.25, 0.25, 12.75, -0.25, -6.75]),
    ]

    func testMatchesOnnxRuntimeOnSmallCases() throws {
        for (kind, attributes, shape, expected) in onnxRuntimeCases {
            let output = try R.run(kind, [ramp], attributes)[0]
            XCTAssertEqual(output.shape, shape, "\(kind) \(attributes)")
            R.assertClose(output.floats, expected, relative: 1e-6, absolute: 0, "\(kind) \(attributes)")
        }
    }

    /// Pooling written the plain way: every window, every tap, ONNX's output size and ceil_mode rule.
    private func reference(_ x: HostValue, kernel: [Int], strides: [Int], pads: [Int], dilations: [Int], ceilMode: Bool,
                           isMax: Bool, includePad: Bool) -> (shape: [Int], values: [Float]) {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var outputs = [0, 0]
        for axis in 0..<2 {
            let size = [h, w][axis]
            let span = Double(size + pads[axis] + pads[axis + 2] - dilations[axis] * (kernel[axis] - 1) - 1)
            var out = Int((ceilMode ? (span / Double(strides[axis])).rounded(.up) : (span / Double(strides[axis])).rounded(.down))) + 1
            if ceilMode && (out - 1) * strides[axis] >= size + pads[axis] { out -= 1 }
            outputs[axis] = out
        }
        var values: [Float] = []
        for plane in 0..<(n * c) {
            for oh in 0..<outputs[0] {
                for ow in 0..<outputs[1] {
                    var best = -Float.infinity
                    var sum: Float = 0
                    var valid = 0
                    var padded = 0
                    for kh in 0..<kernel[0] {
                        for kw in 0..<kernel[1] {
                            let ih = oh * strides[0] - pads[0] + kh * dilations[0]
                            let iw = ow * strides[1] - pads[1] + kw * dilations[1]
                            if ih < h + pads[2] && iw < w + pads[3] { padded += 1 }
                            guard ih >= 0, ih < h, iw >= 0, iw < w else { continue }
                            let value = x.floats[(plane * h + ih) * w + iw]
                            best = Swift.max(best, value)
                            sum += value
                            valid += 1
                        }
                    }
                    values.append(isMax ? best : sum / Float(includePad ? padded : valid))
                }
            }
        }
        return ([n, c, outputs[0], outputs[1]], values)
    }

    func testRandomWindowsAgainstScalarReference() throws {
        let configurations: [([Int], [Int], [Int], [Int], Bool)] = [
            ([3, 3], [2, 2], [1, 1, 1, 1], [1, 1], false),
            ([3, 3], [1, 1], [1, 1, 1, 1], [1, 1], false),
            ([2, 2], [2, 2], [0, 0, 0, 0], [1, 1], true),
            ([3, 3], [2, 2], [0, 1, 1, 0], [1, 1], true),
            ([5, 3], [3, 1], [2, 1, 2, 1], [1, 2], true),
            ([1, 1], [1, 1], [0, 0, 0, 0], [1, 1], false),
            ([7, 7], [1, 1], [0, 0, 0, 0], [1, 1], false),
            ([3, 3], [2, 2], [1, 1, 1, 1], [2, 2], true),
        ]
        // Widths that reach the 32- and 8-output vector blocks of both strides, their tails, and the borders.
        let inputs = [R.random([2, 3, 13, 19], seed: 9, low: -4, high: 4), R.random([1, 2, 8, 83], seed: 13, low: -4, high: 4)]
        for x in inputs {
        for (kernel, strides, pads, dilations, ceilMode) in configurations {
            var attributes: [String: Attribute] = ["kernel_shape": .ints(kernel.map(Int64.init)),
                                                   "strides": .ints(strides.map(Int64.init)),
                                                   "pads": .ints(pads.map(Int64.init)),
                                                   "dilations": .ints(dilations.map(Int64.init)),
                                                   "ceil_mode": .int(ceilMode ? 1 : 0)]
            let label = "k\(kernel) s\(strides) p\(pads) d\(dilations) ceil \(ceilMode)"
            let maxExpected = reference(x, kernel: kernel, strides: strides, pads: pads, dilations: dilations,
                                        ceilMode: ceilMode, isMax: true, includePad: false)
            let maxOutput = try R.run(.maxPool, [x], attributes)[0]
            XCTAssertEqual(maxOutput.shape, maxExpected.shape, label)
            XCTAssertEqual(maxOutput.floats, maxExpected.values, label)
            for includePad in [false, true] {
                attributes["count_include_pad"] = .int(includePad ? 1 : 0)
                let expected = reference(x, kernel: kernel, strides: strides, pads: pads, dilations: dilations,
                                         ceilMode: ceilMode, isMax: false, includePad: includePad)
                let output = try R.run(.averagePool, [x], attributes)[0]
                XCTAssertEqual(output.shape, expected.shape, label)
                R.assertClose(output.floats, expected.values, relative: 1e-5, absolute: 1e-6, "\(label) include pad \(includePad)")
            }
        }
        }
    }

    func testLargePoolWithTwoThreadsMatchesSingleThread() throws {
        let x = R.random([1, 64, 56, 56], seed: 10)
        for kind in [OpKind.maxPool, .averagePool] {
            let attributes: [String: Attribute] = ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])]
            XCTAssertEqual(try R.run(kind, [x], attributes, threads: 2)[0].floats, try R.run(kind, [x], attributes)[0].floats)
        }
    }

    func testGlobalPools() throws {
        for shape in [[2, 3, 5, 7], [1, 2, 41], [1, 70, 16, 16], [2, 2, 2, 3, 4]] {
            let x = R.random(shape, seed: 11, low: -3, high: 3)
            let planeSize = shape.dropFirst(2).reduce(1, *)
            let planes = shape[0] * shape[1]
            let expectedShape = [shape[0], shape[1]] + Array(repeating: 1, count: shape.count - 2)
            let average = try R.run(.globalAveragePool, [x], threads: 2)[0]
            let maximum = try R.run(.globalMaxPool, [x], threads: 2)[0]
            XCTAssertEqual(average.shape, expectedShape)
            XCTAssertEqual(maximum.shape, expectedShape)
            for plane in 0..<planes {
                let values = x.floats[plane * planeSize..<(plane + 1) * planeSize]
                XCTAssertEqual(average.floats[plane], values.reduce(0, +) / Float(planeSize), accuracy: 1e-5)
                XCTAssertEqual(maximum.floats[plane], values.max()!)
            }
        }
    }

    func testMalformedAttributesFail() {
        let x = R.random([1, 2, 5, 5], seed: 12)
        R.assertThrows("invalid") { try R.infer(.maxPool, [x]) }
        R.assertThrows("invalid") { try R.infer(.maxPool, [x], ["kernel_shape": .ints([3])]) }
        R.assertThrows("invalid") { try R.infer(.maxPool, [x], ["kernel_shape": .ints([3, 3]), "strides": .ints([0, 1])]) }
        R.assertThrows("invalid") { try R.infer(.maxPool, [x], ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1])]) }
        R.assertThrows("invalid") { try R.infer(.maxPool, [x], ["kernel_shape": .ints([7, 7])]) }
        R.assertThrows("invalid") { try R.infer(.averagePool, [x], ["kernel_shape": .ints([3, 3]), "auto_pad": .string("SAME")]) }
        R.assertThrows("unsupported") { try R.infer(.maxPool, [R.random([1, 2, 9], seed: 1)], ["kernel_shape": .ints([3])]) }
        R.assertThrows("invalid") { try R.infer(.globalAveragePool, [R.random([2, 3], seed: 1)]) }
    }
}
