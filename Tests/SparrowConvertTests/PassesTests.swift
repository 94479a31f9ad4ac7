import Sparrow
import XCTest

@testable import SparrowConvert

// Test classes are named PassesTests* so that `--filter PassesTests` selects all of them.

// MARK: - Canonicalize

final class PassesTestsCanonicalize: XCTestCase {
    private func canonicalized(_ g: IRGraph) throws -> IRGraph {
        var g = g
        try CanonicalizePass().run(&g)
        // Idempotent: a second run changes nothing.
        var again = g
        try CanonicalizePass().run(&again)
        XCTAssertEqual(again.nodes, g.nodes)
        XCTAssertEqual(again.initializers, g.initializers)
        return g
    }

    func testClipAttributesBecomeInputs() throws {
        let g = try canonicalized(graph(opset: 10, nodes: [
            node("Clip", ["x"], ["a"], name: "relu6", ["min": .float(0), "max": .float(6)]),
            node("Clip", ["a"], ["y"], name: "cap", ["max": .float(4)]),
        ]))
        XCTAssertTrue(g.nodes.allSatisfy { $0.attributes.isEmpty })
        XCTAssertEqual(g.initializers[g.nodes[0].inputs[1]], floats([0], []))
        XCTAssertEqual(g.initializers[g.nodes[0].inputs[2]], floats([6], []))
        XCTAssertEqual(g.nodes[1].inputs.count, 3)
        XCTAssertEqual(g.nodes[1].inputs[1], "", "missing min stays omitted")
        XCTAssertEqual(g.initializers[g.nodes[1].inputs[2]], floats([4], []))
    }

    func testClipBoundsFollowFloat16Input() throws {
        let g = try canonicalized(graph(opset: 10, inputs: [IRValueInfo(name: "x", dtype: .float16, shape: nil)],
                                        nodes: [node("Clip", ["x"], ["y"], ["min": .float(-1)])]))
        XCTAssertEqual(g.initializers[g.nodes[0].inputs[1]], IRTensorData(dtype: .float16, shape: [], bytes: [0x00, 0xBC]))
    }

    func testAxesAndSplitAttributesBecomeInputs() throws {
        let g = try canonicalized(graph(opset: 11, outputs: ["y", "s0", "s1"], nodes: [
            node("Unsqueeze", ["x"], ["u"], ["axes": .ints([0])]),
            node("Squeeze", ["u"], ["q"], ["axes": .ints([0])]),
            node("ReduceMean", ["q"], ["m"], ["axes": .ints([2, 3]), "keepdims": .int(1)]),
            node("ReduceSum", ["m"], ["y"], ["keepdims": .int(0)]),
            node("Split", ["x"], ["s0", "s1"], ["axis": .int(1), "split": .ints([2, 6])]),
        ]))
        XCTAssertEqual(g.initializers[g.nodes[0].inputs[1]], ints([0]))
        XCTAssertEqual(g.initializers[g.nodes[1].inputs[1]], ints([0]))
        XCTAssertEqual(g.initializers[g.nodes[2].inputs[1]], ints([2, 3]))
        XCTAssertEqual(g.nodes[2].attributes, ["keepdims": .int(1)])
        XCTAssertEqual(g.nodes[3].inputs, ["m"], "no axes attribute: reduce over all axes, nothing to move")
        XCTAssertEqual(g.initializers[g.nodes[4].inputs[1]], ints([2, 6]))
        XCTAssertEqual(g.nodes[4].attributes, ["axis": .int(1)])
    }

    func testOldPadAndSliceAttributesBecomeInputs() throws {
        let g = try canonicalized(graph(opset: 9, nodes: [
            node("Pad", ["x"], ["p"], ["pads": .ints([0, 0, 1, 1, 0, 0, 1, 1]), "value": .float(-1),
                                       "mode": .string("constant")]),
            node("Slice", ["p"], ["y"], ["starts": .ints([1]), "ends": .ints([-1]), "axes": .ints([2])]),
        ]))
        XCTAssertEqual(g.nodes[0].attributes, ["mode": .string("constant")])
        XCTAssertEqual(g.initializers[g.nodes[0].inputs[1]], ints([0, 0, 1, 1, 0, 0, 1, 1]))
        XCTAssertEqual(g.initializers[g.nodes[0].inputs[2]], floats([-1], []))
        XCTAssertEqual(g.nodes[1].attributes, [:])
        XCTAssertEqual(g.nodes[1].inputs.map { g.initializers[$0] }.dropFirst(), [ints([1]), ints([-1]), ints([2])])
    }

    func testNewPadAndSliceAreUntouched() throws {
        let nodes = [node("Pad", ["x", "pads"], ["p"]), node("Slice", ["p", "s", "e"], ["y"])]
        let g = try canonicalized(graph(opset: 13, nodes: nodes))
        XCTAssertEqual(g.nodes, nodes)
    }

    func testUpsampleAndResize10BecomeResize11() throws {
        let g = try canonicalized(graph(opset: 7, nodes: [
            node("Upsample", ["x"], ["u"], ["scales": .floats([1, 1, 2, 2])]),
            node("Upsample", ["u", "sc"], ["y"], ["mode": .string("bilinear")]),
        ], initializers: ["sc": floats([1, 1, 2, 2], [4])]))
        XCTAssertEqual(g.nodes.map(\.opType), ["Resize", "Resize"])
        XCTAssertEqual(g.nodes[0].inputs[1], "")
        XCTAssertEqual(g.initializers[g.nodes[0].inputs[2]], floats([1, 1, 2, 2], [4]))
        XCTAssertEqual(g.nodes[0].attributes, ["mode": .string("nearest"), "nearest_mode": .string("floor"),
                                               "coordinate_transformation_mode": .string("asymmetric")])
        XCTAssertEqual(g.nodes[1].inputs, ["u", "", "sc"])
        XCTAssertEqual(g.nodes[1].attributes["mode"], .string("linear"))

        let r = try canonicalized(graph(opset: 10, nodes: [node("Resize", ["x", "sc"], ["y"])],
                                        initializers: ["sc": floats([1, 1, 2, 2], [4])]))
        XCTAssertEqual(r.nodes[0].inputs, ["x", "", "sc"])
        XCTAssertEqual(r.nodes[0].attributes["coordinate_transformation_mode"], .string("asymmetric"))
    }

    func testOldSoftmaxOnLastAxisKeepsOneNode() throws {
        let x = IRValueInfo(name: "x", dtype: .float32, shape: [.symbolic("N"), .fixed(10)])
        let g = try canonicalized(graph(opset: 11, inputs: [x], nodes: [node("Softmax", ["x"], ["y"])]))
        XCTAssertEqual(g.nodes.map(\.opType), ["Softmax"])
        XCTAssertEqual(g.nodes[0].attributes["axis"], .int(-1))
        let last = try canonicalized(graph(opset: 12, nodes: [node("LogSoftmax", ["x"], ["y"], ["axis": .int(-1)])]))
        XCTAssertEqual(last.nodes.map(\.opType), ["LogSoftmax"])
    }

    func testOldSoftmaxRankFromProducers() throws {
        // Gemm output has rank 2: axis 1 is the last, whatever the batch.
        let classifier = try canonicalized(graph(opset: 11, nodes: [
            node("Flatten", ["x"], ["f"]), node("Gemm", ["f", "w"], ["g"]), node("Relu", ["g"], ["r"]),
            node("Softmax", ["r"], ["y"]),
        ]))
        XCTAssertEqual(classifier.nodes.map(\.opType), ["Flatten", "Gemm", "Relu", "Softmax"])
        XCTAssertEqual(classifier.nodes[3].attributes["axis"], .int(-1))
        // Unsqueeze of a rank-2 value is rank 3: axis 1 is not the last.
        let x = IRValueInfo(name: "x", dtype: .float32, shape: [.symbolic("N"), .fixed(4)])
        let inner = try canonicalized(graph(opset: 11, inputs: [x], nodes: [
            node("Unsqueeze", ["x"], ["u"], ["axes": .ints([2])]), node("Softmax", ["u"], ["y"]),
        ]))
        XCTAssertEqual(inner.nodes.map(\.opType), ["Unsqueeze", "Flatten", "Softmax", "Shape", "Reshape"])
    }

    func testOldSoftmaxOnInnerAxisFlattens() throws {
        // Known shape: the Reshape target is a constant.
        let fixed = IRValueInfo(name: "x", dtype: .float32, shape: [.fixed(2), .fixed(3), .fixed(4)])
        let g = try canonicalized(graph(opset: 11, inputs: [fixed], nodes: [node("Softmax", ["x"], ["y"])]))
        XCTAssertEqual(g.nodes.map(\.opType), ["Flatten", "Softmax", "Reshape"])
        XCTAssertEqual(g.nodes[0].attributes["axis"], .int(1))
        XCTAssertEqual(g.nodes[1].attributes["axis"], .int(-1))
        XCTAssertEqual(g.initializers[g.nodes[2].inputs[1]], ints([2, 3, 4]))
        XCTAssertEqual(g.nodes[2].outputs, ["y"])

        // Unknown rank: Shape(x) supplies the target.
        let u = try canonicalized(graph(opset: 12, nodes: [node("LogSoftmax", ["x"], ["y"], ["axis": .int(2)])]))
        XCTAssertEqual(u.nodes.map(\.opType), ["Flatten", "LogSoftmax", "Shape", "Reshape"])
        XCTAssertEqual(u.nodes[0].attributes["axis"], .int(2))
        XCTAssertEqual(u.nodes[2].inputs, ["x"])
        XCTAssertEqual(u.nodes[3].inputs, [u.nodes[1].outputs[0], u.nodes[2].outputs[0]])

        // Opset 13 semantics are per-axis already.
        let new = try canonicalized(graph(opset: 13, nodes: [node("Softmax", ["x"], ["y"], ["axis": .int(1)])]))
        XCTAssertEqual(new.nodes.map(\.opType), ["Softmax"])
        XCTAssertEqual(new.nodes[0].attributes["axis"], .int(1))
    }

    func testBatchNormTrainingOutputs() throws {
        let unused = try canonicalized(graph(opset: 9, nodes: [
            node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "rm", "rv", "sm", "sv"]),
        ]))
        XCTAssertEqual(unused.nodes[0].outputs, ["y"])
        var used = graph(opset: 9, outputs: ["y", "rm"], nodes: [
            node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "rm", "rv"]),
        ])
        XCTAssertThrowsError(try CanonicalizePass().run(&used)) { error in
            guard case ConvertError.unsupported = error else { return XCTFail("unexpected \(error)") }
        }
    }

    func testCastToDoubleCastsToFloat() throws {
        let g = try canonicalized(graph(nodes: [node("Cast", ["x"], ["y"], ["to": .int(11)])]))
        XCTAssertEqual(g.nodes[0].attributes["to"], .int(1))
    }

    func testSigmoidTimesInputBecomesSiLU() throws {
        for order in [["x", "s"], ["s", "x"]] {
            let g = try canonicalized(graph(nodes: [node("Sigmoid", ["x"], ["s"]), node("Mul", order, ["y"], name: "mul")]))
            XCTAssertEqual(g.nodes, [IRNode(name: "mul", opType: "SiLU", inputs: ["x"], outputs: ["y"])])
        }
        // The gate is read elsewhere too: both nodes stay.
        let shared = try canonicalized(graph(outputs: ["y", "s"], nodes: [
            node("Sigmoid", ["x"], ["s"]), node("Mul", ["x", "s"], ["y"]),
        ]))
        XCTAssertEqual(shared.nodes.map(\.opType), ["Sigmoid", "Mul"])
        // Sigmoid of something else: a gating, not SiLU.
        let gated = try canonicalized(graph(inputs: [IRValueInfo(name: "x", dtype: .float32, shape: nil),
                                                     IRValueInfo(name: "z", dtype: .float32, shape: nil)],
                                            nodes: [node("Sigmoid", ["z"], ["s"]), node("Mul", ["x", "s"], ["y"])]))
        XCTAssertEqual(gated.nodes.map(\.opType), ["Sigmoid", "Mul"])
    }

    func testHardSigmoidTimesInputBecomesHardSwish() throws {
        let g = try canonicalized(graph(nodes: [
            node("HardSigmoid", ["x"], ["h"], ["alpha": .float(0.16666667), "beta": .float(0.5)]),
            node("Mul", ["h", "x"], ["y"]),
        ]))
        XCTAssertEqual(g.nodes.map(\.opType), ["HardSwish"])
        XCTAssertEqual(g.nodes[0].inputs, ["x"])
        let other = try canonicalized(graph(nodes: [node("HardSigmoid", ["x"], ["h"]), node("Mul", ["h", "x"], ["y"])]))
        XCTAssertEqual(other.nodes.map(\.opType), ["HardSigmoid", "Mul"], "default alpha 0.2 is not HardSwish")
    }

    func testErfGeluPatterns() throws {
        let constants = ["half": floats([0.5], []), "one": floats([1], []), "sqrt2": floats([1.4142135], []),
                         "inv": floats([0.70710677], [1])]
        let erfChain = [node("Div", ["x", "sqrt2"], ["d"]), node("Erf", ["d"], ["e"]), node("Add", ["e", "one"], ["s"])]
        // PyTorch nn.GELU: (x · (1 + erf)) · 0.5
        let pytorch = try canonicalized(graph(nodes: erfChain + [node("Mul", ["x", "s"], ["m"]),
                                                                 node("Mul", ["m", "half"], ["y"], name: "gelu")],
                                              initializers: constants))
        XCTAssertEqual(pytorch.nodes, [IRNode(name: "gelu", opType: "Gelu", inputs: ["x"], outputs: ["y"])])
        // Hand-written: (0.5 · x) · (1 + erf(x · 1/√2)), operands swapped.
        let handWritten = try canonicalized(graph(nodes: [
            node("Mul", ["inv", "x"], ["d"]), node("Erf", ["d"], ["e"]), node("Add", ["one", "e"], ["s"]),
            node("Mul", ["half", "x"], ["h"]), node("Mul", ["s", "h"], ["y"]),
        ], initializers: constants))
        XCTAssertEqual(handWritten.nodes.map(\.opType), ["Gelu"])
        // Wrong constant (1 + erf(x / 2)): untouched.
        var wrong = constants
        wrong["sqrt2"] = floats([2], [])
        let notGelu = try canonicalized(graph(nodes: erfChain + [node("Mul", ["x", "s"], ["m"]),
                                                                 node("Mul", ["m", "half"], ["y"])],
                                              initializers: wrong))
        XCTAssertEqual(notGelu.nodes.count, 5)
        // An intermediate read elsewhere: untouched.
        let shared = try canonicalized(graph(outputs: ["y", "e"], nodes: erfChain + [node("Mul", ["x", "s"], ["m"]),
                                                                                    node("Mul", ["m", "half"], ["y"])],
                                             initializers: constants))
        XCTAssertEqual(shared.nodes.count, 5)
    }
}

// MARK: - Remove identity

final class PassesTestsRemoveIdentity: XCTestCase {
    private func run(_ g: IRGraph) throws -> IRGraph {
        var g = g
        try RemoveIdentityPass().run(&g)
        return g
    }

    func testInnerIdentityAndDropoutAreBypassed() throws {
        let g = try run(graph(nodes: [
            node("Relu", ["x"], ["a"]), node("Identity", ["a"], ["b"]), node("Dropout", ["b"], ["c", "mask"]),
            node("Add", ["b", "c"], ["y"]),
        ]))
        XCTAssertEqual(g.nodes.map(\.opType), ["Relu", "Add"])
        XCTAssertEqual(g.nodes[1].inputs, ["a", "a"])
    }

    func testRemovedOutputKeepsGraphOutputName() throws {
        let g = try run(graph(nodes: [node("Relu", ["x"], ["a"]), node("Identity", ["a"], ["y"]),
                                      node("Sigmoid", ["a"], ["s"])]))
        // Relu now writes "y" directly; Sigmoid reads it under that name.
        XCTAssertEqual(g.nodes.map(\.opType), ["Relu", "Sigmoid"])
        XCTAssertEqual(g.nodes[0].outputs, ["y"])
        XCTAssertEqual(g.nodes[1].inputs, ["y"])
        XCTAssertEqual(g.outputs.map(\.name), ["y"])
    }

    func testIdentityOfGraphInputOrConstantStays() throws {
        let fromInput = try run(graph(nodes: [node("Identity", ["x"], ["y"])]))
        XCTAssertEqual(fromInput.nodes.map(\.opType), ["Identity"])
        let fromConstant = try run(graph(nodes: [node("Identity", ["w"], ["y"])], initializers: ["w": floats([1], [1])]))
        XCTAssertEqual(fromConstant.nodes.map(\.opType), ["Identity"])
        let twoOutputs = try run(graph(outputs: ["a", "y"], nodes: [node("Relu", ["x"], ["a"]), node("Identity", ["a"], ["y"])]))
        XCTAssertEqual(twoOutputs.nodes.map(\.opType), ["Relu", "Identity"])
    }

    func testDropoutWithUsedMaskStays() throws {
        let g = try run(graph(outputs: ["y", "mask"], nodes: [node("Dropout", ["x"], ["d", "mask"]), node("Relu", ["d"], ["y"])]))
        XCTAssertEqual(g.nodes.map(\.opType), ["Dropout", "Relu"])
    }

    func testCastToSameTypeOnly() throws {
        let g = try run(graph(nodes: [
            node("Cast", ["x"], ["a"], ["to": .int(1)]),  // f32 → f32
            node("Cast", ["a"], ["b"], ["to": .int(10)]),  // → f16: real
            node("Cast", ["b"], ["y"], ["to": .int(1)]),  // type of b unknown: kept
        ]))
        XCTAssertEqual(g.nodes.count, 2)
        XCTAssertEqual(g.nodes[0].inputs, ["x"])
        XCTAssertEqual(g.nodes.map { $0.attributes["to"] }, [.int(10), .int(1)])
    }
}

// MARK: - Fold BatchNormalization

/// Naive NCHW convolution (stride 1, no padding), the reference the folded weights are checked against.
private func conv2d(_ x: [Float], _ xShape: [Int], _ w: [Float], _ wShape: [Int], _ bias: [Float]?, group: Int) -> [Double] {
    let (n, c, h, width) = (xShape[0], xShape[1], xShape[2], xShape[3])
    let (m, cPerGroup, kh, kw) = (wShape[0], wShape[1], wShape[2], wShape[3])
    let (oh, ow) = (h - kh + 1, width - kw + 1)
    var y = [Double](repeating: 0, count: n * m * oh * ow)
    for b in 0..<n {
        for o in 0..<m {
            let g = o / (m / group)
            for i in 0..<oh {
                for j in 0..<ow {
                    var sum = Double(bias?[o] ?? 0)
                    for ci in 0..<cPerGroup {
                        let channel = g * cPerGroup + ci
                        precondition(channel < c)
                        for u in 0..<kh {
                            for v in 0..<kw {
                                sum += Double(x[((b * c + channel) * h + i + u) * width + j + v])
                                    * Double(w[((o * cPerGroup + ci) * kh + u) * kw + v])
                            }
                        }
                    }
                    y[((b * m + o) * oh + i) * ow + j] = sum
                }
            }
        }
    }
    return y
}

/// Naive NCHW transposed convolution (stride 1, no padding), weight [C, M/group, kh, kw].
private func convTranspose2d(_ x: [Float], _ xShape: [Int], _ w: [Float], _ wShape: [Int], _ bias: [Float]?,
                             group: Int) -> [Double] {
    let (n, c, h, width) = (xShape[0], xShape[1], xShape[2], xShape[3])
    let (mPerGroup, kh, kw) = (wShape[1], wShape[2], wShape[3])
    let m = mPerGroup * group
    let (oh, ow) = (h + kh - 1, width + kw - 1)
    var y = [Double](repeating: 0, count: n * m * oh * ow)
    for b in 0..<n {
        for o in 0..<m { for p in 0..<(oh * ow) { y[(b * m + o) * oh * ow + p] = Double(bias?[o] ?? 0) } }
        for channel in 0..<c {
            let g = channel / (c / group)
            for mo in 0..<mPerGroup {
                let o = g * mPerGroup + mo
                for i in 0..<h { for j in 0..<width { for u in 0..<kh { for v in 0..<kw {
                    y[((b * m + o) * oh + i + u) * ow + j + v] += Double(x[((b * c + channel) * h + i) * width + j])
                        * Double(w[((channel * mPerGroup + mo) * kh + u) * kw + v])
                } } } }
            }
        }
    }
    return y
}

private typealias BNParameters = (scale: [Float], bias: [Float], mean: [Float], variance: [Float])

/// Inference BatchNormalization over dimension 1, in Double.
private func batchNorm(_ x: [Double], channels: Int, inner: Int, _ p: BNParameters, epsilon: Double) -> [Double] {
    x.indices.map { i in
        let c = (i / inner) % channels
        return (x[i] - Double(p.mean[c])) / (Double(p.variance[c]) + epsilon).squareRoot() * Double(p.scale[c])
            + Double(p.bias[c])
    }
}

final class PassesTestsFoldBatchNorm: XCTestCase {
    private var random = SplitMix64(state: 42)

    private func bnParameters(_ channels: Int) -> BNParameters {
        (random.floats(channels, 0.5, 2), random.floats(channels), random.floats(channels), random.floats(channels, 0.1, 3))
    }

    private func bnGraph(producer: IRNode, weight: IRTensorData, bias: IRTensorData?, channels: Int,
                         params: BNParameters, epsilon: Float) -> IRGraph {
        var initializers = ["w": weight, "s": floats(params.scale, [channels]), "b": floats(params.bias, [channels]),
                            "m": floats(params.mean, [channels]), "v": floats(params.variance, [channels])]
        if let bias { initializers["cb"] = bias }
        return graph(nodes: [producer, node("BatchNormalization", ["c", "s", "b", "m", "v"], ["y"], name: "bn",
                                            ["epsilon": .float(epsilon)])],
                     initializers: initializers)
    }

    private func assertClose(_ a: [Double], _ b: [Double], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        let worst = zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        XCTAssertLessThan(worst, 1e-5, file: file, line: line)
    }

    func testConvWithGroupsAndBias() throws {
        for (group, withBias) in [(1, true), (2, false), (4, true)] {
            let (c, m, k) = (4, 8, 3)
            let xShape = [2, c, 5, 5], wShape = [m, c / group, k, k]
            let x = random.floats(xShape.reduce(1, *))
            let w = random.floats(wShape.reduce(1, *))
            let bias = withBias ? random.floats(m) : nil
            let params = bnParameters(m)
            let inputs = ["x", "w"] + (withBias ? ["cb"] : [])
            var g = bnGraph(producer: node("Conv", inputs, ["c"], name: "conv", ["group": .int(Int64(group))]),
                            weight: floats(w, wShape), bias: bias.map { floats($0, [m]) }, channels: m,
                            params: params, epsilon: 1e-3)
            try FoldBatchNormPass().run(&g)
            XCTAssertEqual(g.nodes.map(\.opType), ["Conv"])
            XCTAssertEqual(g.nodes[0].outputs, ["y"])
            let foldedW = try XCTUnwrap(g.initializers[g.nodes[0].inputs[1]]?.floatValues())
            let foldedB = try XCTUnwrap(g.initializers[g.nodes[0].inputs[2]]?.floatValues())
            let expected = batchNorm(conv2d(x, xShape, w, wShape, bias, group: group), channels: m, inner: 9,
                                     params, epsilon: 1e-3)
            assertClose(conv2d(x, xShape, foldedW, wShape, foldedB, group: group), expected)
        }
    }

    func testConvTransposeWithGroups() throws {
        for group in [1, 2] {
            let (c, mPerGroup, k) = (4, 3, 2)
            let m = mPerGroup * group
            let xShape = [1, c, 3, 3], wShape = [c, mPerGroup, k, k]
            let x = random.floats(xShape.reduce(1, *)), w = random.floats(wShape.reduce(1, *))
            let bias = random.floats(m)
            let params = bnParameters(m)
            var g = bnGraph(producer: node("ConvTranspose", ["x", "w", "cb"], ["c"], name: "deconv",
                                           ["group": .int(Int64(group))]),
                            weight: floats(w, wShape), bias: floats(bias, [m]), channels: m, params: params,
                            epsilon: 1e-5)
            try FoldBatchNormPass().run(&g)
            XCTAssertEqual(g.nodes.map(\.opType), ["ConvTranspose"])
            let foldedW = try XCTUnwrap(g.initializers[g.nodes[0].inputs[1]]?.floatValues())
            let foldedB = try XCTUnwrap(g.initializers[g.nodes[0].inputs[2]]?.floatValues())
            let expected = batchNorm(convTranspose2d(x, xShape, w, wShape, bias, group: group), channels: m, inner: 16,
                                     params, epsilon: 1e-5)
            assertClose(convTranspose2d(x, xShape, foldedW, wShape, foldedB, group: group), expected)
        }
    }

    func testGemmWithTransBAndBeta() throws {
        for transB in [false, true] {
            let (rows, k, n) = (3, 5, 4)
            let a = random.floats(rows * k)
            let bShape = transB ? [n, k] : [k, n]
            let b = random.floats(k * n)
            let c = random.floats(n)
            let params = bnParameters(n)
            var g = bnGraph(producer: node("Gemm", ["x", "w", "cb"], ["c"], name: "gemm",
                                           ["transB": .int(transB ? 1 : 0), "alpha": .float(1.5), "beta": .float(0.5)]),
                            weight: floats(b, bShape), bias: floats(c, [n]), channels: n, params: params, epsilon: 1e-5)
            func gemm(_ weight: [Float], _ bias: [Float], beta: Double) -> [Double] {
                (0..<(rows * n)).map { index in
                    let (i, j) = (index / n, index % n)
                    var sum = 0.0
                    for p in 0..<k { sum += Double(a[i * k + p]) * Double(transB ? weight[j * k + p] : weight[p * n + j]) }
                    return 1.5 * sum + beta * Double(bias[j])
                }
            }
            try FoldBatchNormPass().run(&g)
            XCTAssertEqual(g.nodes.map(\.opType), ["Gemm"])
            XCTAssertEqual(g.nodes[0].attributes["beta"], .float(1))
            let foldedW = try XCTUnwrap(g.initializers[g.nodes[0].inputs[1]]?.floatValues())
            let foldedB = try XCTUnwrap(g.initializers[g.nodes[0].inputs[2]]?.floatValues())
            let expected = batchNorm(gemm(b, c, beta: 0.5), channels: n, inner: 1, params, epsilon: 1e-5)
            assertClose(gemm(foldedW, foldedB, beta: 1), expected)
        }
    }

    func testSharedWeightIsCopiedAndOtherReadersBlockFolding() throws {
        let params = bnParameters(2)
        var g = bnGraph(producer: node("Conv", ["x", "w"], ["c"], name: "conv"), weight: floats([1, 2], [2, 1, 1, 1]),
                        bias: nil, channels: 2, params: params, epsilon: 1e-5)
        g.nodes.append(node("Conv", ["x", "w"], ["z"], name: "other"))
        g.outputs.append(IRValueInfo(name: "z", dtype: .float32, shape: nil))
        try FoldBatchNormPass().run(&g)
        XCTAssertEqual(g.nodes.map(\.opType), ["Conv", "Conv"])
        XCTAssertNotEqual(g.nodes[0].inputs[1], "w")
        XCTAssertEqual(g.initializers["w"], floats([1, 2], [2, 1, 1, 1]), "the other conv keeps its weight")

        // Conv output read by a second node: BN must stay.
        var branched = bnGraph(producer: node("Conv", ["x", "w"], ["c"], name: "conv"),
                               weight: floats([1, 2], [2, 1, 1, 1]), bias: nil, channels: 2, params: params,
                               epsilon: 1e-5)
        branched.nodes.append(node("Relu", ["c"], ["z"]))
        branched.outputs.append(IRValueInfo(name: "z", dtype: .float32, shape: nil))
        try FoldBatchNormPass().run(&branched)
        XCTAssertEqual(branched.nodes.map(\.opType), ["Conv", "BatchNormalization", "Relu"])

        // Standalone BN (input is a graph input) stays.
        var standalone = graph(nodes: [node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"])],
                               initializers: ["s": floats([1], [1]), "b": floats([0], [1]), "m": floats([0], [1]),
                                              "v": floats([1], [1])])
        try FoldBatchNormPass().run(&standalone)
        XCTAssertEqual(standalone.nodes.map(\.opType), ["BatchNormalization"])
    }
}

// MARK: - Fuse activation

final class PassesTestsFuseActivation: XCTestCase {
    private func fused(_ activation: IRNode, producer: String = "Conv", initializers: [String: IRTensorData] = [:])
        throws -> IRGraph
    {
        var g = graph(nodes: [node(producer, ["x", "w"], ["c"], name: "p"), activation],
                      initializers: initializers.merging(["w": floats([1], [1, 1, 1, 1])]) { a, _ in a })
        try FuseActivationPass().run(&g)
        return g
    }

    func testEachActivationKind() throws {
        let cases: [(IRNode, FusedActivation, Float?, Float?)] = [
            (node("Relu", ["c"], ["y"]), .relu, nil, nil),
            (node("Sigmoid", ["c"], ["y"]), .sigmoid, nil, nil),
            (node("Tanh", ["c"], ["y"]), .tanh, nil, nil),
            (node("HardSwish", ["c"], ["y"]), .hardSwish, nil, nil),
            (node("SiLU", ["c"], ["y"]), .silu, nil, nil),
            (node("LeakyRelu", ["c"], ["y"], ["alpha": .float(0.1)]), .leakyRelu, 0.1, nil),
            (node("LeakyRelu", ["c"], ["y"]), .leakyRelu, 0.01, nil),
            (node("HardSigmoid", ["c"], ["y"]), .hardSigmoid, 0.2, 0.5),
            (node("Clip", ["c", "lo", "hi"], ["y"]), .clip, 0, 6),
            (node("Clip", ["c", "", "hi"], ["y"]), .clip, -.infinity, 6),
            (node("Clip", ["c", "lo"], ["y"]), .clip, 0, .infinity),
        ]
        for (activation, kind, alpha, beta) in cases {
            for producer in ["Conv", "ConvTranspose", "Gemm", "MatMul"] {
                let g = try fused(activation, producer: producer,
                                  initializers: ["lo": floats([0], []), "hi": floats([6], [1])])
                XCTAssertEqual(g.nodes.count, 1, "\(activation.opType) after \(producer)")
                let p = g.nodes[0]
                XCTAssertEqual(p.outputs, ["y"])
                XCTAssertEqual(p.attributes["activation"], .int(kind.rawValue))
                XCTAssertEqual(p.attributes["activation_alpha"], alpha.map { .float($0) })
                XCTAssertEqual(p.attributes["activation_beta"], beta.map { .float($0) })
            }
        }
    }

    func testConditionsThatBlockFusion() throws {
        // Clip bound computed at run time.
        XCTAssertEqual(try fused(node("Clip", ["c", "x"], ["y"])).nodes.count, 2)
        // Not a fusable producer.
        XCTAssertEqual(try fused(node("Relu", ["c"], ["y"]), producer: "Add").nodes.count, 2)
        // Producer output is also a graph output.
        var exposed = graph(outputs: ["y", "c"], nodes: [node("Conv", ["x", "w"], ["c"]), node("Relu", ["c"], ["y"])])
        try FuseActivationPass().run(&exposed)
        XCTAssertEqual(exposed.nodes.count, 2)
        // Producer output read twice.
        var twice = graph(outputs: ["y", "z"], nodes: [node("Conv", ["x", "w"], ["c"]), node("Relu", ["c"], ["y"]),
                                                      node("Sigmoid", ["c"], ["z"])])
        try FuseActivationPass().run(&twice)
        XCTAssertEqual(twice.nodes.count, 3)
        // One activation per producer: Relu → Relu leaves the second.
        var chain = graph(nodes: [node("Conv", ["x", "w"], ["c"]), node("Relu", ["c"], ["r"]), node("Relu", ["r"], ["y"])])
        try FuseActivationPass().run(&chain)
        XCTAssertEqual(chain.nodes.map(\.opType), ["Conv", "Relu"])
        XCTAssertEqual(chain.nodes[0].outputs, ["r"])
        try FuseActivationPass().run(&chain)
        XCTAssertEqual(chain.nodes.map(\.opType), ["Conv", "Relu"], "already fused")
    }
}

// MARK: - Channel shuffle

final class PassesTestsChannelShuffle: XCTestCase {
    private func shuffleGraph(split: [Int64], merge: [Int64], perm: [Int64] = [0, 2, 1, 3, 4],
                              x: IRValueInfo = IRValueInfo(name: "x", dtype: .float32, shape: nil)) -> IRGraph {
        graph(inputs: [x], nodes: [
            node("Reshape", ["x", "s1"], ["r1"]), node("Transpose", ["r1"], ["t"], name: "shuffle", ["perm": .ints(perm)]),
            node("Reshape", ["t", "s2"], ["y"]),
        ], initializers: ["s1": ints(split), "s2": ints(merge)])
    }

    private func shuffled(_ g: IRGraph) throws -> IRGraph {
        var g = g
        try ChannelShufflePass().run(&g)
        return g
    }

    func testShuffleNetPatterns() throws {
        let cases: [([Int64], [Int64])] = [
            ([1, 2, 58, 28, 28], [1, -1, 28, 28]),
            ([1, 2, 58, 28, 28], [1, 116, 28, 28]),
            ([0, 4, 3, 5, 5], [0, 12, 5, 5]),
            ([-1, 4, 3, 5, 5], [-1, 12, 5, 5]),
            ([0, 4, 3, 5, 5], [0, -1, 5, 5]),
            ([2, 3, 4, 1, 6], [2, 12, 1, 6]),
            ([2, 3, 4, 5, 5], [2, 12, 5, 0]),  // 0 copies the transposed tensor's dim 3 (H = W here)
        ]
        for (split, merge) in cases {
            let g = try shuffled(shuffleGraph(split: split, merge: merge))
            XCTAssertEqual(g.nodes, [IRNode(name: "shuffle", opType: "ChannelShuffle", inputs: ["x"], outputs: ["y"],
                                            attributes: ["group": .int(split[1])])], "\(split) → \(merge)")
        }
    }

    func testNonShufflesAreLeftAlone() throws {
        let cases: [([Int64], [Int64], [Int64])] = [
            ([1, 2, 58, 28, 28], [1, 116, 28, 28], [0, 1, 2, 3, 4]),  // no transpose of the group axes
            ([1, 2, 58, 28, 28], [1, 58, 56, 28], [0, 2, 1, 3, 4]),  // does not merge back to C
            ([1, 2, 58, 28, 28], [1, 0, 28, 28], [0, 2, 1, 3, 4]),  // 0 copies C/g, not C
            ([1, 2, 58, 28, 28], [-1, 58, 28, 28], [0, 2, 1, 3, 4]),  // -1 infers 2 as the batch
            ([1, 1, 58, 28, 28], [1, 58, 28, 28], [0, 2, 1, 3, 4]),  // one group: nothing to shuffle
            ([-1, 2, 58, 28, 28], [1, 116, 28, 28], [0, 2, 1, 3, 4]),  // batch unknown, then fixed: unprovable
        ]
        for (split, merge, perm) in cases {
            let g = try shuffled(shuffleGraph(split: split, merge: merge, perm: perm))
            XCTAssertEqual(g.nodes.count, 3, "\(split) \(merge) \(perm)")
        }
        // A declared input shape that the split does not fit.
        let wrongInput = IRValueInfo(name: "x", dtype: .float32, shape: [.fixed(1), .fixed(58), .fixed(56), .fixed(28)])
        XCTAssertEqual(try shuffled(shuffleGraph(split: [1, 2, 58, 28, 28], merge: [1, 116, 28, 28], x: wrongInput))
            .nodes.count, 3)
        let rightInput = IRValueInfo(name: "x", dtype: .float32, shape: [.symbolic("N"), .fixed(116), .fixed(28), .fixed(28)])
        XCTAssertEqual(try shuffled(shuffleGraph(split: [0, 2, 58, 28, 28], merge: [0, 116, 28, 28], x: rightInput))
            .nodes.map(\.opType), ["ChannelShuffle"])
    }
}

// MARK: - Supported ops, dead code, pipeline

final class PassesTestsHygiene: XCTestCase {
    func testUnsupportedOpsAreAllListed() throws {
        let g = graph(outputs: ["y", "z", "w"], nodes: [
            node("Relu", ["x"], ["a"]), node("NonMaxSuppression", ["a"], ["y"], name: "nms1"),
            node("TopK", ["a"], ["z"], name: "topk"), node("NonMaxSuppression", ["a"], ["w"], name: "nms2"),
        ])
        XCTAssertThrowsError(try SupportedOps.check(g)) { error in
            guard case ConvertError.unsupportedOps(let ops) = error else { return XCTFail("unexpected \(error)") }
            XCTAssertEqual(ops.map(\.opType), ["NonMaxSuppression", "TopK"])
            XCTAssertEqual(ops.map(\.nodes), [["nms1", "nms2"], ["topk"]])
            XCTAssertEqual("\(error)", "unsupported operators: NonMaxSuppression (2 nodes: nms1, nms2); TopK (1 node: topk)")
        }
        XCTAssertNoThrow(try SupportedOps.check(graph(nodes: [node("SiLU", ["x"], ["a"]), node("ChannelShuffle", ["a"], ["y"],
                                                                                               ["group": .int(2)])])))
    }

    func testDeadNodesAndUnusedInitializersGo() throws {
        var g = graph(nodes: [
            node("Relu", ["x"], ["a"]), node("Shape", ["a"], ["dead1"]), node("Mul", ["dead1", "k"], ["dead2"]),
            node("Add", ["a", "bias"], ["y"]),
        ], initializers: ["k": floats([2], [1]), "bias": floats([1], [1]), "orphan": floats([0], [1])])
        g.valueInfo["dead2"] = IRValueInfo(name: "dead2", dtype: .float32, shape: nil)
        try DeadNodeEliminationPass().run(&g)
        try PruneUnusedInitializersPass().run(&g)
        XCTAssertEqual(g.nodes.map(\.opType), ["Relu", "Add"])
        XCTAssertEqual(Set(g.initializers.keys), ["bias"])
        XCTAssertTrue(g.valueInfo.isEmpty)
    }

    func testStandardPipelineOrder() {
        XCTAssertEqual(PassPipeline.standard.stageNames, [
            "canonicalize", "import-qdq", "remove-identity", "eliminate-dead-nodes", "fold-batchnorm", "channel-shuffle",
            "fuse-activation", "eliminate-dead-nodes", "prune-initializers", "check-supported-ops",
        ])
        let withFolding = PassPipeline.standard(constantFolding: .init(name: "constant-folding") { _ in })
        XCTAssertEqual(withFolding.stageNames[4], "constant-folding")
    }

    /// x·Sigmoid(x) after a Conv with BN: canonicalize makes SiLU, BN folds, SiLU fuses into the Conv.
    func testPipelineFusesConvBatchNormSiLU() throws {
        var g = graph(nodes: [
            node("Conv", ["x", "w"], ["c"]), node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"]),
            node("Sigmoid", ["n"], ["g"]), node("Mul", ["n", "g"], ["y"]),
        ], initializers: ["w": floats([1], [1, 1, 1, 1]), "s": floats([2], [1]), "b": floats([0], [1]),
                          "m": floats([0], [1]), "v": floats([1], [1])])
        try PassPipeline.standard.run(&g)
        XCTAssertEqual(g.nodes.map(\.opType), ["Conv"])
        XCTAssertEqual(g.nodes[0].attributes["activation"], .int(FusedActivation.silu.rawValue))
        XCTAssertEqual(g.nodes[0].outputs, ["y"])
    }
}
