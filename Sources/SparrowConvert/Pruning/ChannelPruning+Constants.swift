import Sparrow

// The removed channels' constant share of each consumer's output, computed on Sparrow's own kernels so that
// padding, strides, pooling modes and activations follow exactly the semantics the pruned model runs with.

extension ChannelPruning {
    /// A consumer's pre-activation output caused by removed channels alone, at batch 1: `[1, Cout, Ho, Wo]` for a
    /// Conv, `[1, N]` for Gemm/MatMul.
    struct Share {
        var shape: [Int]
        var values: [Float]

        /// Whether every output channel holds one value at all pixels, within 1e-6 of the largest magnitude
        /// (kernels may sum the same products in different orders at different pixels).
        var isSpatiallyUniform: Bool {
            guard shape.count == 4 else { return true }
            let plane = shape[2] * shape[3]
            let tolerance = 1e-6 * Double(values.reduce(0) { max($0, abs($1)) })
            for channel in 0..<shape[1] {
                let pixels = values[channel * plane..<(channel + 1) * plane]
                let first = Double(pixels.first ?? 0)
                if pixels.contains(where: { abs(Double($0) - first) > tolerance }) { return false }
            }
            return true
        }

        var isZero: Bool { values.allSatisfy { $0 == 0 } }
    }

    /// The share of `plan`'s removed channels in each of its group's sinks, by sink node index.
    ///
    /// Builds a small model whose input is a zero map of the producer's output size: the producer becomes a 1×1
    /// Conv with zero weights and the removed channels' biases and activation (the masked producer, exactly),
    /// followed by the group's steps restricted to the removed channels, and each sink restricted to them, without
    /// bias or activation. Running it once gives every share.
    /// - Throws: Errors of lowering or running the small model (a bug of this pass, not of the input).
    static func constantShares(of plan: Plan, in graph: IRGraph) throws -> [Int: Share] {
        let group = plan.group
        let removed = plan.removed
        var names = IRNameScope(graph)
        let probe = names.fresh("pruning_probe")
        var mini = IRGraph(name: "pruning-shares", opsetVersion: graph.opsetVersion)
        mini.inputs = [IRValueInfo(name: probe, dtype: .float32, shape: [1, 1, group.height, group.width].map { .fixed($0) })]

        let producer = group.producerNode
        let bias = try floats(producer.inputs.count > 2 ? producer.inputs[2] : "", count: group.channels, in: graph)
        let zeroWeight = names.fresh("pruning_zero_weight")
        let removedBias = names.fresh("pruning_bias")
        mini.initializers[zeroWeight] = IRTensorData(floats: [Float](repeating: 0, count: removed.count),
                                                     shape: [removed.count, 1, 1, 1])
        mini.initializers[removedBias] = IRTensorData(floats: removed.map { bias[$0] }, shape: [removed.count])
        mini.nodes.append(IRNode(name: producer.name, opType: "Conv", inputs: [probe, zeroWeight, removedBias],
                                 outputs: [producer.outputs[0]], attributes: activationAttributes(of: producer)))

        var alias: [String: String] = [:]
        var sinks: [(node: Int, output: String)] = []
        for step in group.steps {
            let node = graph.nodes[step.node]
            let input = alias[step.input] ?? step.input
            let channels = removed.map { step.offset + $0 }
            switch step.kind {
            case .elementwise, .pool:
                var copy = node
                copy.inputs[0] = input
                copy.outputs = [node.outputs[0]]
                for name in node.inputs.dropFirst() where !name.isEmpty { mini.initializers[name] = graph.initializers[name] }
                mini.nodes.append(copy)
            case .depthwise:
                var copy = node
                let weight = graph.initializers[node.inputs[1]]!
                let weightName = names.fresh("\(node.name)_removed_weight")
                mini.initializers[weightName] = IRTensorData(
                    floats: gather(weight.floatValues()!, shape: weight.shape, axis: 0, indices: channels),
                    shape: [channels.count] + weight.shape.dropFirst())
                copy.inputs = [input, weightName]
                if node.inputs.count > 2, !node.inputs[2].isEmpty {
                    let bias = try floats(node.inputs[2], count: step.inputChannels, in: graph)
                    let biasName = names.fresh("\(node.name)_removed_bias")
                    mini.initializers[biasName] = IRTensorData(floats: channels.map { bias[$0] }, shape: [channels.count])
                    copy.inputs.append(biasName)
                }
                copy.attributes["group"] = .int(Int64(channels.count))
                mini.nodes.append(copy)
            case .concat:
                alias[node.outputs[0]] = input
            case .flatten, .reshape:
                mini.nodes.append(IRNode(name: node.name, opType: "Flatten", inputs: [input], outputs: [node.outputs[0]],
                                         attributes: ["axis": .int(1)]))
            case .convSink, .gemmSink, .matMulSink:
                let weight = graph.initializers[node.inputs[1]]!
                let transB = step.kind == .gemmSink && node.attributes["transB"]?.intFromIR ?? 0 != 0
                let axis = step.kind == .convSink || transB ? 1 : 0
                var shape = weight.shape
                shape[axis] = channels.count
                let weightName = names.fresh("\(node.name)_removed_weight")
                mini.initializers[weightName] = IRTensorData(
                    floats: gather(weight.floatValues()!, shape: weight.shape, axis: axis, indices: channels), shape: shape)
                var attributes = node.attributes.filter { !$0.key.hasPrefix("activation") }
                attributes["beta"] = nil
                let output = names.fresh("pruning_share_\(node.name)")
                mini.nodes.append(IRNode(name: node.name, opType: node.opType, inputs: [input, weightName],
                                         outputs: [output], attributes: attributes))
                sinks.append((step.node, output))
            }
        }
        mini.outputs = sinks.map { IRValueInfo(name: $0.output, dtype: .float32, shape: nil) }

        let (description, blobs) = try GraphLowering.lower(mini)
        let model = try Model(bytes: ModelFileWriter.encode(graph: description, blobs: blobs, metadata: []))
        let session = try Session(model: model, threads: 1)
        let outputs = try session.run([Tensor(zeros: [1, 1, group.height, group.width])])
        var result: [Int: Share] = [:]
        for (sink, output) in zip(sinks, outputs) { result[sink.node] = Share(shape: output.shape, values: output.floats) }
        return result
    }

    /// The `activation*` attributes of a node: its fused activation.
    static func activationAttributes(of node: IRNode) -> [String: IRAttribute] {
        node.attributes.filter { $0.key.hasPrefix("activation") }
    }

    /// A float32 constant of `count` elements, or zeros when `name` is empty.
    static func floats(_ name: String, count: Int, in graph: IRGraph) throws -> [Float] {
        if name.isEmpty { return [Float](repeating: 0, count: count) }
        guard let values = graph.initializers[name]?.floatValues(), values.count == count else {
            throw NotPrunable("'\(name)' is not a float constant of \(count) elements")
        }
        return values
    }

    /// The slices `indices` of `values` (C order, `shape`) along `axis`, in the order given.
    static func gather(_ values: [Float], shape: [Int], axis: Int, indices: [Int]) -> [Float] {
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        let size = shape[axis]
        var result: [Float] = []
        result.reserveCapacity(outer * indices.count * inner)
        for o in 0..<outer {
            for index in indices {
                let start = (o * size + index) * inner
                result.append(contentsOf: values[start..<start + inner])
            }
        }
        return result
    }
}
