import Sparrow
import XCTest

@testable import SparrowConvert

// Helpers shared by the tests that build IR graphs by hand (PassesTests, PruningTests, ChannelPruningTests,
// StructuredPruningTests). Random data comes from the converter's seeded SplitMix64, so that it is the same on
// every run.

extension SplitMix64 {
    /// Uniform in [low, high).
    mutating func float(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * Float(next() >> 40) / Float(1 << 24)
    }

    /// `count` values uniform in [low, high).
    mutating func floats(_ count: Int, _ low: Float = -1, _ high: Float = 1) -> [Float] {
        (0..<count).map { _ in float(low, high) }
    }
}

/// A node named `name`, or `<op>_<first output>` in lower case.
func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String? = nil,
          _ attributes: [String: IRAttribute] = [:]) -> IRNode {
    IRNode(name: name ?? "\(op.lowercased())_\(outputs.first ?? "")", opType: op, inputs: inputs, outputs: outputs,
           attributes: attributes)
}

/// A graph of float32 outputs named `outputs`.
func graph(opset: Int = 17, inputs: [IRValueInfo] = [IRValueInfo(name: "x", dtype: .float32, shape: nil)],
           outputs: [String] = ["y"], nodes: [IRNode], initializers: [String: IRTensorData] = [:]) -> IRGraph {
    IRGraph(name: "test", opsetVersion: opset, nodes: nodes, initializers: initializers, inputs: inputs,
            outputs: outputs.map { IRValueInfo(name: $0, dtype: .float32, shape: nil) })
}

func floats(_ values: [Float], _ shape: [Int]) -> IRTensorData { IRTensorData(floats: values, shape: shape) }
func ints(_ values: [Int64]) -> IRTensorData { IRTensorData(int64s: values, shape: [values.count]) }

/// Builds small float32 IR graphs with seeded random weights; nodes are named `<output>_node`.
struct GraphBuilder {
    var random = SplitMix64(state: 42)
    var nodes: [IRNode] = []
    var initializers: [String: IRTensorData] = [:]

    mutating func constant(_ name: String, _ shape: [Int], _ low: Float = -0.5, _ high: Float = 0.5) -> String {
        initializers[name] = IRTensorData(floats: random.floats(shape.reduce(1, *), low, high), shape: shape)
        return name
    }

    mutating func node(_ op: String, _ inputs: [String], _ output: String, _ attributes: [String: IRAttribute] = [:]) {
        nodes.append(IRNode(name: "\(output)_node", opType: op, inputs: inputs, outputs: [output], attributes: attributes))
    }

    /// Conv with a random weight `[outputs, inputs/group, k, k]` and a bias in [-0.2, 0.6) (mostly positive, so
    /// that Relu of a zeroed channel is not zero and the constants matter).
    mutating func conv(_ input: String, _ output: String, inputs: Int, outputs: Int, kernel: Int = 1, stride: Int = 1,
                       pad: Int = 0, group: Int = 1) {
        let weight = constant("\(output)_w", [outputs, inputs / group, kernel, kernel])
        let bias = constant("\(output)_b", [outputs], -0.2, 0.6)
        node("Conv", [input, weight, bias], output, [
            "kernel_shape": .ints([Int64(kernel), Int64(kernel)]), "strides": .ints([Int64(stride), Int64(stride)]),
            "pads": .ints([Int64(pad), Int64(pad), Int64(pad), Int64(pad)]), "group": .int(Int64(group)),
        ])
    }

    mutating func relu6(_ input: String, _ output: String) {
        initializers["zero"] = IRTensorData(floats: [0], shape: [])
        initializers["six"] = IRTensorData(floats: [6], shape: [])
        node("Clip", [input, "zero", "six"], output)
    }

    func graph(input: [Dim], outputs: [String]) -> IRGraph {
        IRGraph(name: "test", opsetVersion: 17, nodes: nodes, initializers: initializers,
                inputs: [IRValueInfo(name: "x", dtype: .float32, shape: input)],
                outputs: outputs.map { IRValueInfo(name: $0, dtype: .float32, shape: nil) })
    }
}
