import Sparrow

extension CanonicalizePass.Rewriter {
    /// Softmax/LogSoftmax before opset 13 coerce the input to 2-D at `axis` (default 1) and normalise over the
    /// second dimension, i.e. over *all* dimensions from `axis` on. Opset 13 normalises over `axis` alone. The two
    /// agree only when `axis` is the last dimension.
    ///
    /// Choice: when the axis is provably last (`-1`, or the input's rank is declared or follows from the ops
    /// before it, see `RankInference`) the node just gets
    /// `axis = -1`. Otherwise it becomes `Flatten(axis) → Softmax(axis = -1) → Reshape(back)`, which is exact
    /// for any rank; the Reshape target is a constant when the input's shape is fully known and `Shape(x)`
    /// otherwise. Not knowing the rank thus costs up to three cheap shape nodes, never a wrong answer.
    mutating func softmaxToOpset13(_ node: IRNode) -> [IRNode] {
        var node = node
        let axis = node.attributes["axis"]?.intFromIR ?? 1
        guard let input = node.inputs.first, let output = node.outputs.first else { return [node] }
        let shape = graph.declaredShape(of: input)
        let rank = (shape?.count ?? ranks[input]).map { Int64($0) }
        let axisIsLast = axis == -1 || rank.map { $0 > 0 && (axis < 0 ? axis + $0 : axis) == $0 - 1 } == true
        if axisIsLast {
            node.attributes["axis"] = .int(-1)
            return [node]
        }

        let flat = names.fresh("\(node.name)_flat")
        let normalised = names.fresh("\(node.name)_2d")
        let flatten = IRNode(name: names.fresh("\(node.name)_flatten"), opType: "Flatten", inputs: [input],
                             outputs: [flat], attributes: ["axis": .int(axis)])
        var softmax = node
        softmax.inputs = [flat]
        softmax.outputs = [normalised]
        softmax.attributes["axis"] = .int(-1)

        var nodes = [flatten, softmax]
        let targetShape: String
        if let dims = shape?.map(\.fixedValue), dims.allSatisfy({ $0 != nil }) {
            let values = dims.map { Int64($0!) }
            targetShape = addConstant(IRTensorData(int64s: values, shape: [values.count]), base: "\(node.name)_shape")
        } else {
            targetShape = names.fresh("\(node.name)_shape")
            nodes.append(IRNode(name: names.fresh("\(node.name)_input_shape"), opType: "Shape", inputs: [input],
                                outputs: [targetShape]))
        }
        nodes.append(IRNode(name: names.fresh("\(node.name)_reshape"), opType: "Reshape",
                            inputs: [normalised, targetShape], outputs: [output]))
        return nodes
    }

    /// Upsample (deprecated in opset 10) → Resize with the same arithmetic: Upsample maps output coordinate x to
    /// input x / scale (`asymmetric`) and, for nearest, takes the floor, which is what ONNX Runtime does for
    /// upsampling scales (≥ 1), the only ones Upsample is used with.
    mutating func upsampleToResize(_ node: inout IRNode) throws {
        guard let input = node.inputs.first else { return }
        let scales: String
        if node.inputs.count >= 2, !node.inputs[1].isEmpty {
            scales = node.inputs[1]
        } else if let values = node.attributes["scales"].flatMap({ attribute -> [Float]? in
            if case .floats(let values) = attribute { return values }
            return nil
        }) {
            scales = addConstant(IRTensorData(floats: values, shape: [values.count]), base: "\(node.name)_scales")
        } else {
            throw ConvertError.invalidONNX("Upsample node '\(node.name)' has no scales")
        }
        let mode = node.attributes["mode"]?.stringFromIR ?? "nearest"
        node.opType = "Resize"
        node.inputs = [input, "", scales]
        node.attributes = resizeAttributes(mode: mode)
    }

    /// Resize of opset 10 takes (X, scales) and has opset-11 `asymmetric` semantics; opset 11 added the `roi`
    /// input between them.
    mutating func resize10ToResize11(_ node: inout IRNode) {
        guard node.inputs.count == 2 else { return }
        let mode = node.attributes["mode"]?.stringFromIR ?? "nearest"
        node.inputs = [node.inputs[0], "", node.inputs[1]]
        node.attributes = resizeAttributes(mode: mode)
    }

    private func resizeAttributes(mode: String) -> [String: IRAttribute] {
        // Upsample-7 also accepted "bilinear" as a synonym of "linear".
        let resizeMode = mode == "bilinear" ? "linear" : mode
        var attributes: [String: IRAttribute] = [
            "mode": .string(resizeMode),
            "coordinate_transformation_mode": .string("asymmetric"),
        ]
        if resizeMode == "nearest" { attributes["nearest_mode"] = .string("floor") }
        return attributes
    }
}
