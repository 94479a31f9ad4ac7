import Sparrow

// Physical removal of the chosen channels, and the constant shares folded into biases or added as bias maps.

extension ChannelPruning {
    /// What every touched node loses, collected over all plans (several producers can reach one node through a
    /// Concat).
    private struct Removals {
        /// Output channels (axis 0 of the weight) of producers and depthwise Convs.
        var outputs: [Int: Set<Int>] = [:]
        /// Input channels or features of sinks.
        var inputs: [Int: Set<Int>] = [:]
        var depthwise = Set<Int>()
        /// Reshape nodes: channel count of their input before pruning, and how many of them go.
        var reshapes: [Int: (total: Int, removed: Int)] = [:]
        /// Values whose channel count changes.
        var values = Set<String>()

        init(_ plans: [Plan], _ graph: IRGraph) {
            for plan in plans {
                outputs[plan.group.producer, default: []].formUnion(plan.removed)
                values.insert(plan.group.producerNode.outputs[0])
                for step in plan.group.steps {
                    let channels = plan.removed.map { step.offset + $0 }
                    switch step.kind {
                    case .depthwise:
                        outputs[step.node, default: []].formUnion(channels)
                        depthwise.insert(step.node)
                    case .convSink, .gemmSink, .matMulSink:
                        inputs[step.node, default: []].formUnion(channels)
                    case .reshape:
                        reshapes[step.node] = (step.inputChannels, (reshapes[step.node]?.removed ?? 0) + channels.count)
                    case .elementwise, .pool, .concat, .flatten:
                        break
                    }
                    if !step.kind.isSink { values.insert(graph.nodes[step.node].outputs[0]) }
                }
            }
        }
    }

    /// Shared state of one rewrite.
    private struct Editor {
        var graph: IRGraph
        let uses: IRUseIndex
        var names: IRNameScope
        /// Initializers replaced by fresh copies; dropped at the end if nothing reads them any more.
        var replaced = Set<String>()
        /// Nodes to insert after a node index.
        var inserted: [Int: [IRNode]] = [:]

        /// Stores `tensor` under `name` when only one node reads it, otherwise under a fresh name, so that other
        /// readers of a shared constant keep the original.
        mutating func store(_ tensor: IRTensorData, replacing name: String, base: String) -> String {
            let exclusive = !name.isEmpty && uses.consumers(of: name).count == 1 && !uses.graphOutputs.contains(name)
                && !graph.inputs.contains { $0.name == name }
            let target = exclusive ? name : names.fresh(base)
            if !exclusive, !name.isEmpty { replaced.insert(name) }
            graph.initializers[target] = tensor
            return target
        }
    }

    static func rewrite(_ graph: inout IRGraph, plans: [Plan], shares: [Int: Share], uses: IRUseIndex, shapes: Shapes,
                        report: inout ChannelPruningReport) throws {
        let removals = Removals(plans, graph)
        var editor = Editor(graph: graph, uses: uses, names: IRNameScope(graph))
        let touched = Set(removals.outputs.keys).union(removals.inputs.keys).union(shares.keys)
        for index in touched.sorted() {
            let node = editor.graph.nodes[index]
            switch node.opType {
            case "Conv":
                try rewriteConv(index, removals: removals, share: shares[index], editor: &editor, report: &report)
            case "Gemm":
                try rewriteGemm(index, removed: removals.inputs[index] ?? [], share: shares[index], editor: &editor,
                                report: &report)
            case "MatMul":
                try rewriteMatMul(index, removed: removals.inputs[index] ?? [], share: shares[index], editor: &editor,
                                  report: &report)
            default:
                break
            }
        }
        for (index, reshape) in removals.reshapes {
            let node = editor.graph.nodes[index]
            guard var target = editor.graph.initializers[node.inputs[1]]?.int64Values() else { continue }
            guard target[1] == Int64(reshape.total) else { continue }
            target[1] = Int64(reshape.total - reshape.removed)
            editor.graph.nodes[index].inputs[1] = editor.store(IRTensorData(int64s: target, shape: [2]),
                                                               replacing: node.inputs[1], base: "\(node.name)_shape")
        }

        var nodes: [IRNode] = []
        nodes.reserveCapacity(editor.graph.nodes.count + editor.inserted.values.reduce(0) { $0 + $1.count })
        for (index, node) in editor.graph.nodes.enumerated() {
            nodes.append(node)
            nodes += editor.inserted[index] ?? []
        }
        editor.graph.nodes = nodes
        // Declared shapes of values whose channel count changed would now be wrong: drop them.
        for value in removals.values where editor.graph.valueInfo[value] != nil {
            editor.graph.valueInfo[value]?.shape = nil
        }
        let read = Set(editor.graph.nodes.flatMap(\.inputs)).union(editor.graph.outputs.map(\.name))
        for name in editor.replaced where !read.contains(name) { editor.graph.initializers[name] = nil }
        graph = editor.graph
    }

    // MARK: - Conv

    private static func rewriteConv(_ index: Int, removals: Removals, share: Share?, editor: inout Editor,
                                    report: inout ChannelPruningReport) throws {
        var node = editor.graph.nodes[index]
        let weight = editor.graph.initializers[node.inputs[1]]!
        var values = weight.floatValues()!
        var shape = weight.shape
        let outputs = shape[0]
        let removedOutputs = removals.outputs[index] ?? []
        let kept = (0..<outputs).filter { !removedOutputs.contains($0) }
        if !removedOutputs.isEmpty {
            values = gather(values, shape: shape, axis: 0, indices: kept)
            shape[0] = kept.count
        }
        if let removedInputs = removals.inputs[index], !removedInputs.isEmpty {
            let keptInputs = (0..<shape[1]).filter { !removedInputs.contains($0) }
            values = gather(values, shape: shape, axis: 1, indices: keptInputs)
            shape[1] = keptInputs.count
        }
        if shape != weight.shape {
            node.inputs[1] = editor.store(IRTensorData(floats: values, shape: shape), replacing: node.inputs[1],
                                          base: "\(node.name)_weight")
        }
        if removals.depthwise.contains(index) { node.attributes["group"] = .int(Int64(kept.count)) }

        let biasName = node.inputs.count > 2 ? node.inputs[2] : ""
        var bias = try floats(biasName, count: outputs, in: editor.graph).map(Double.init)
        var biasChanged = !removedOutputs.isEmpty && !biasName.isEmpty
        if let share, !share.isZero {
            let plane = share.shape[2] * share.shape[3]
            let keptShare = Share(shape: [1, kept.count, share.shape[2], share.shape[3]],
                                  values: gather(share.values, shape: share.shape, axis: 1, indices: kept))
            if keptShare.isSpatiallyUniform {
                for (position, channel) in kept.enumerated() {
                    let pixels = keptShare.values[position * plane..<(position + 1) * plane]
                    bias[channel] += pixels.reduce(0.0) { $0 + Double($1) } / Double(plane)
                }
                biasChanged = true
                report.biasFolds += 1
            } else {
                addBiasMap(IRTensorData(floats: keptShare.values, shape: keptShare.shape), after: index, node: &node,
                           editor: &editor, report: &report)
            }
        }
        if biasChanged {
            let keptBias = kept.map { Float(bias[$0]) }
            let name = editor.store(IRTensorData(floats: keptBias, shape: [kept.count]), replacing: biasName,
                                    base: "\(node.name)_bias")
            while node.inputs.count < 3 { node.inputs.append("") }
            node.inputs[2] = name
        }
        editor.graph.nodes[index] = node
    }

    // MARK: - Gemm and MatMul

    private static func rewriteGemm(_ index: Int, removed: Set<Int>, share: Share?, editor: inout Editor,
                                    report: inout ChannelPruningReport) throws {
        var node = editor.graph.nodes[index]
        let transB = node.attributes["transB"]?.intFromIR ?? 0 != 0
        let weight = editor.graph.initializers[node.inputs[1]]!
        let featureAxis = transB ? 1 : 0
        let outputs = weight.shape[1 - featureAxis]
        if !removed.isEmpty {
            let kept = (0..<weight.shape[featureAxis]).filter { !removed.contains($0) }
            var shape = weight.shape
            shape[featureAxis] = kept.count
            node.inputs[1] = editor.store(
                IRTensorData(floats: gather(weight.floatValues()!, shape: weight.shape, axis: featureAxis, indices: kept),
                             shape: shape),
                replacing: node.inputs[1], base: "\(node.name)_weight")
        }
        if let share, !share.isZero {
            // Y = alpha·A·B + beta·C: C becomes beta·C + share and beta 1, rounded once.
            let beta = Double(node.attributes["beta"]?.floatFromIR ?? 1)
            let biasName = node.inputs.count > 2 ? node.inputs[2] : ""
            // C's shape is one of [], [1], [1, 1], [N], [1, N], [M, N] (checked when the group was formed).
            var shape = [outputs]
            var bias = [Double](repeating: 0, count: outputs)
            if let tensor = biasName.isEmpty ? nil : editor.graph.initializers[biasName], let values = tensor.floatValues() {
                if values.count == 1 {
                    bias = [Double](repeating: beta * Double(values[0]), count: outputs)
                } else {
                    bias = values.map { beta * Double($0) }
                    shape = tensor.shape
                }
            }
            for i in bias.indices { bias[i] += Double(share.values[i % outputs]) }
            let name = editor.store(IRTensorData(floats: bias.map(Float.init), shape: shape), replacing: biasName,
                                    base: "\(node.name)_bias")
            while node.inputs.count < 3 { node.inputs.append("") }
            node.inputs[2] = name
            node.attributes["beta"] = .float(1)
            report.biasFolds += 1
        }
        editor.graph.nodes[index] = node
    }

    private static func rewriteMatMul(_ index: Int, removed: Set<Int>, share: Share?, editor: inout Editor,
                                      report: inout ChannelPruningReport) throws {
        var node = editor.graph.nodes[index]
        let weight = editor.graph.initializers[node.inputs[1]]!
        if !removed.isEmpty {
            let kept = (0..<weight.shape[0]).filter { !removed.contains($0) }
            node.inputs[1] = editor.store(
                IRTensorData(floats: gather(weight.floatValues()!, shape: weight.shape, axis: 0, indices: kept),
                             shape: [kept.count, weight.shape[1]]),
                replacing: node.inputs[1], base: "\(node.name)_weight")
        }
        // MatMul has no bias to fold into: the share is added by a node of its own.
        if let share, !share.isZero {
            addBiasMap(IRTensorData(floats: share.values, shape: [share.values.count]), after: index, node: &node,
                       editor: &editor, report: &report)
        }
        editor.graph.nodes[index] = node
    }

    // MARK: - Bias maps

    /// Makes `node` (at `index`) write a fresh value, and inserts after it `Add(value, map)` and, if `node` had a
    /// fused activation, that activation as a node of its own, so that the map is added before the activation.
    private static func addBiasMap(_ map: IRTensorData, after index: Int, node: inout IRNode, editor: inout Editor,
                                   report: inout ChannelPruningReport) {
        let output = node.outputs[0]
        let unbiased = editor.names.fresh("\(output)_before_bias_map")
        let mapName = editor.names.fresh("\(node.name)_bias_map")
        editor.graph.initializers[mapName] = map
        node.outputs[0] = unbiased
        report.biasMaps += 1
        let activation = activationAttributes(of: node)
        let code = activation["activation"]?.intFromIR ?? 0
        guard code != FusedActivation.none.rawValue, let kind = FusedActivation(rawValue: code) else {
            editor.inserted[index, default: []].append(IRNode(name: editor.names.fresh("\(node.name)_add_bias_map"),
                                                              opType: "Add", inputs: [unbiased, mapName], outputs: [output]))
            return
        }
        let biased = editor.names.fresh("\(output)_after_bias_map")
        editor.inserted[index, default: []].append(IRNode(name: editor.names.fresh("\(node.name)_add_bias_map"),
                                                          opType: "Add", inputs: [unbiased, mapName], outputs: [biased]))
        editor.inserted[index, default: []].append(activationNode(kind, activation, input: biased, output: output,
                                                                  name: "\(node.name)_activation", editor: &editor))
        for key in activation.keys { node.attributes[key] = nil }
        report.movedActivations += 1
    }

    /// The standalone node computing a fused activation, with the parameters `FuseActivationPass` stored.
    private static func activationNode(_ kind: FusedActivation, _ attributes: [String: IRAttribute], input: String,
                                       output: String, name: String, editor: inout Editor) -> IRNode {
        let alpha = attributes["activation_alpha"]?.floatFromIR
        let beta = attributes["activation_beta"]?.floatFromIR
        let nodeName = editor.names.fresh(name)
        func plain(_ op: String, _ attributes: [String: IRAttribute] = [:]) -> IRNode {
            IRNode(name: nodeName, opType: op, inputs: [input], outputs: [output], attributes: attributes)
        }
        switch kind {
        case .none, .relu: return plain("Relu")
        case .sigmoid: return plain("Sigmoid")
        case .hardSwish: return plain("HardSwish")
        case .silu: return plain("SiLU")
        case .tanh: return plain("Tanh")
        case .leakyRelu: return plain("LeakyRelu", ["alpha": .float(alpha ?? 0.01)])
        case .hardSigmoid: return plain("HardSigmoid", ["alpha": .float(alpha ?? 0.2), "beta": .float(beta ?? 0.5)])
        case .clip:
            // Infinite bounds are what FuseActivationPass writes for an absent min or max.
            var inputs = [input]
            for (bound, label) in [(alpha ?? 0, "min"), (beta ?? 0, "max")] {
                guard bound.isFinite else {
                    inputs.append("")
                    continue
                }
                let boundName = editor.names.fresh("\(nodeName)_\(label)")
                editor.graph.initializers[boundName] = IRTensorData(floats: [bound], shape: [])
                inputs.append(boundName)
            }
            return IRNode(name: nodeName, opType: "Clip", inputs: inputs, outputs: [output])
        }
    }
}
