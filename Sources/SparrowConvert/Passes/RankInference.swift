/// Ranks of intermediate values, propagated from declared shapes and constants through the ops whose output rank
/// follows from their input ranks and attributes alone.
///
/// Exporters rarely declare intermediate shapes, yet some rewrites only need the rank: an opset-11 Softmax over
/// axis 1 of a Gemm output is already a last-axis softmax, and knowing that saves a Flatten/Shape/Reshape detour.
/// Values whose rank cannot be derived here are simply absent.
enum RankInference {
    static func ranks(of graph: IRGraph) -> [String: Int] {
        var rank: [String: Int] = [:]
        for (name, tensor) in graph.initializers { rank[name] = tensor.shape.count }
        for input in graph.inputs { if let shape = input.shape { rank[input.name] = shape.count } }
        for (name, info) in graph.valueInfo { if let shape = info.shape { rank[name] = shape.count } }

        for node in graph.nodes {
            guard node.domain.isEmpty, let output = node.outputs.first, !output.isEmpty, rank[output] == nil,
                  let inferred = outputRank(node, rank: rank, graph: graph), inferred >= 0 else { continue }
            rank[output] = inferred
            // Split's outputs all share the input's rank.
            if node.opType == "Split" { for extra in node.outputs.dropFirst() where !extra.isEmpty { rank[extra] = inferred } }
        }
        return rank
    }

    private static let sameRankAsFirstInput: Set<String> = [
        "Relu", "Clip", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "SiLU", "Tanh", "Gelu", "Erf",
        "Exp", "Log", "Neg", "Reciprocal", "Sqrt", "Abs", "Floor", "Ceil", "Softmax", "LogSoftmax", "Identity",
        "Dropout", "Cast", "BatchNormalization", "Conv", "ConvTranspose", "MaxPool", "AveragePool",
        "GlobalAveragePool", "GlobalMaxPool", "Transpose", "Slice", "Pad", "Resize", "Upsample", "Split", "Concat",
        "ChannelShuffle",
    ]
    private static let broadcasting: Set<String> = ["Add", "Sub", "Mul", "Div", "Pow", "Equal", "Min", "Max", "Where"]

    private static func outputRank(_ node: IRNode, rank: [String: Int], graph: IRGraph) -> Int? {
        let inputRanks = node.inputs.map { $0.isEmpty ? nil : rank[$0] }
        func constantCount(_ slot: Int, attribute: String) -> Int? {
            if node.inputs.count > slot, !node.inputs[slot].isEmpty {
                return graph.initializers[node.inputs[slot]]?.elementCount
            }
            return node.attributes[attribute]?.intsFromIR?.count
        }
        switch node.opType {
        case _ where sameRankAsFirstInput.contains(node.opType):
            if node.opType == "Concat" { return inputRanks.compactMap { $0 }.first }
            return inputRanks.first ?? nil
        case _ where broadcasting.contains(node.opType):
            let known = inputRanks.compactMap { $0 }
            return known.count == inputRanks.count ? known.max() : nil
        case "Gemm", "Flatten":
            return 2
        case "Shape":
            return 1
        case "MatMul":
            guard inputRanks.count == 2, let a = inputRanks[0], let b = inputRanks[1] else { return nil }
            if a == 1 && b == 1 { return 0 }
            if a == 1 { return b - 1 }
            if b == 1 { return a - 1 }
            return max(a, b)
        case "Reshape":
            return node.inputs.count > 1 ? graph.initializers[node.inputs[1]]?.elementCount : nil
        case "Unsqueeze":
            guard let input = inputRanks.first ?? nil, let axes = constantCount(1, attribute: "axes") else { return nil }
            return input + axes
        case "Squeeze":
            guard let input = inputRanks.first ?? nil, let axes = constantCount(1, attribute: "axes") else { return nil }
            return input - axes
        case "ReduceMean", "ReduceMax", "ReduceSum":
            guard let input = inputRanks.first ?? nil else { return nil }
            if node.attributes["keepdims"]?.intFromIR ?? 1 != 0 { return input }
            let hasAxes = (node.inputs.count > 1 && !node.inputs[1].isEmpty) || node.attributes["axes"] != nil
            guard hasAxes else {
                // No axes: all of them, or none with noop_with_empty_axes.
                return node.attributes["noop_with_empty_axes"]?.intFromIR ?? 0 != 0 ? input : 0
            }
            return constantCount(1, attribute: "axes").map { input - $0 }
        case "Gather":
            guard inputRanks.count == 2, let data = inputRanks[0], let indices = inputRanks[1] else { return nil }
            return data - 1 + indices
        default:
            return nil
        }
    }
}
