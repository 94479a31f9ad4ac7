import Sparrow

// Shapes of every value, found by planning the graph with the runtime (as ConstantFoldingPass does), and the
// multiply–accumulate count of the layers that dominate a CNN's cost.

extension ChannelPruning {
    /// Inferred shapes of the graph's values.
    ///
    /// A symbolic input dimension has no size to plan with, so the graph is planned twice, with every symbolic
    /// dimension at 1 and at 2: an axis whose size differs between the two depends on a symbolic dimension (the
    /// batch, usually) and counts as unknown. Pruning needs the channel and spatial axes of the values it touches
    /// to be known, because the bias maps it adds have those sizes.
    struct Shapes {
        /// Shapes with every symbolic dimension at 1: the sizes MACs are counted at.
        var concrete: [String: [Int]] = [:]
        /// Axes whose size depends on a symbolic input dimension.
        var varying: [String: Set<Int>] = [:]

        /// The shape of `value` if every axis from `axis` on is known.
        func shape(_ value: String, knownFrom axis: Int = 1) -> [Int]? {
            guard let shape = concrete[value] else { return nil }
            if let varying = varying[value], varying.contains(where: { $0 >= axis }) { return nil }
            return shape
        }
    }

    /// Plans `graph` to learn every value's shape.
    /// - Throws: `ConvertError.invalidArgument` when an input's rank is unknown, or what lowering and planning
    ///   throw (an invalid graph).
    static func inferShapes(_ graph: IRGraph, inputShapes: [String: [Int]]) throws -> Shapes {
        var hasSymbols = false
        func inputTypes(probe: Int) throws -> [TensorType] {
            try graph.inputs.filter { graph.initializers[$0.name] == nil }.map { input in
                if let shape = inputShapes[input.name] { return TensorType(input.dtype, shape) }
                guard let declared = input.shape else {
                    throw ConvertError.invalidArgument("input '\(input.name)' has no declared shape; give --input-shape")
                }
                return TensorType(input.dtype, declared.map { dim in
                    if let size = dim.fixedValue { return size }
                    hasSymbols = true
                    return probe
                })
            }
        }
        let (description, blobs) = try GraphLowering.lower(graph)
        let model = try Model(bytes: ModelFileWriter.encode(graph: description, blobs: blobs, metadata: []))
        func shapes(probe: Int) throws -> [String: [Int]] {
            let analysis = try PlanAnalysis.analyze(model: model, inputTypes: try inputTypes(probe: probe))
            var result: [String: [Int]] = [:]
            for (index, tensor) in description.tensors.enumerated() {
                if let type = analysis.types[index] { result[tensor.name] = type.shape }
            }
            return result
        }
        var result = Shapes(concrete: try shapes(probe: 1))
        guard hasSymbols else { return result }
        let other = try shapes(probe: 2)
        for (name, shape) in result.concrete {
            guard let second = other[name], second.count == shape.count else {
                result.varying[name] = Set(shape.indices)
                continue
            }
            let axes = Set(shape.indices.filter { shape[$0] != second[$0] })
            if !axes.isEmpty { result.varying[name] = axes }
        }
        return result
    }

    /// Multiply–accumulates of one Conv, ConvTranspose, Gemm or MatMul node, `nil` for other ops or unknown shapes.
    static func macs(of node: IRNode, in graph: IRGraph, shapes: Shapes) -> Int? {
        guard node.domain.isEmpty, let output = node.outputs.first, let outputShape = shapes.concrete[output],
              node.inputs.count >= 2 else { return nil }
        let weightShape = graph.initializers[node.inputs[1]]?.shape ?? shapes.concrete[node.inputs[1]]
        switch node.opType {
        case "Conv":
            // Each output element sums Cin/group · kernel products: the weight's trailing dimensions.
            guard let weightShape, weightShape.count >= 2 else { return nil }
            return outputShape.reduce(1, *) * weightShape.dropFirst().reduce(1, *)
        case "ConvTranspose":
            guard let weightShape, weightShape.count >= 2, let inputShape = shapes.concrete[node.inputs[0]] else { return nil }
            return inputShape.reduce(1, *) * weightShape.dropFirst().reduce(1, *)
        case "Gemm", "MatMul":
            guard let inputShape = shapes.concrete[node.inputs[0]], let last = inputShape.last else { return nil }
            let transA = node.opType == "Gemm" && node.attributes["transA"]?.intFromIR ?? 0 != 0
            let inner = transA && inputShape.count == 2 ? inputShape[0] : last
            return outputShape.reduce(1, *) * inner
        default:
            return nil
        }
    }

    /// MACs of every node, by node name.
    static func macsByNode(_ graph: IRGraph, shapes: Shapes) -> [String: Int] {
        var result: [String: Int] = [:]
        for node in graph.nodes {
            if let count = macs(of: node, in: graph, shapes: shapes) { result[node.name, default: 0] += count }
        }
        return result
    }
}
