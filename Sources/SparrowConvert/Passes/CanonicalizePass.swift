import Sparrow

/// Rewrites older-opset forms into the opset-21 forms the runtime implements, and recognises activations that
/// exporters spell as several nodes.
///
/// - Clip `min`/`max`, Split `split`, Squeeze/Unsqueeze `axes`, ReduceMean/ReduceMax/ReduceSum `axes`,
///   Pad (opset < 11) `pads`/`value`, Slice (opset < 10) `starts`/`ends`/`axes` attributes become constant inputs.
/// - Upsample, and Resize of opset 10, become opset-11 Resize (`asymmetric` coordinates, `floor` rounding).
/// - Softmax/LogSoftmax before opset 13 (flatten-to-2D semantics) become the opset-13 op on the last axis,
///   wrapped in Flatten/Reshape unless the axis is provably the last (see `CanonicalizePass+Softmax.swift`).
/// - Unused extra outputs of BatchNormalization are dropped; Cast to DOUBLE casts to FLOAT (Sparrow stores
///   doubles as float32).
/// - `x * Sigmoid(x)` becomes `SiLU`, `x * HardSigmoid(x, 1/6, 1/2)` becomes `HardSwish`, and
///   `x * 0.5 * (1 + Erf(x / √2))` becomes `Gelu` (all three are Sparrow op kinds).
///
/// Every rewrite produces a form the pass leaves alone, so running it twice changes nothing.
public struct CanonicalizePass: GraphPass {
    public var name: String { "canonicalize" }

    public init() {}

    public func run(_ graph: inout IRGraph) throws {
        var rewriter = Rewriter(graph: graph)
        var rewritten: [IRNode] = []
        rewritten.reserveCapacity(graph.nodes.count)
        for node in graph.nodes {
            rewritten += try rewriter.rewrite(node)
        }
        graph = rewriter.graph
        graph.nodes = rewritten
        fuseMultiplicativeActivations(&graph)
    }
}

extension CanonicalizePass {
    /// The node-by-node rewrite, holding the graph being built (for new initializers) and a name scope.
    struct Rewriter {
        var graph: IRGraph
        var names: IRNameScope
        let uses: IRUseIndex
        /// Ranks of the source graph's values, where they can be derived (for the Softmax rewrite).
        let ranks: [String: Int]

        init(graph: IRGraph) {
            self.graph = graph
            names = IRNameScope(graph)
            uses = IRUseIndex(graph)
            ranks = graph.opsetVersion < 13 ? RankInference.ranks(of: graph) : [:]
        }

        /// The replacement of `node`: usually itself, possibly several nodes.
        mutating func rewrite(_ node: IRNode) throws -> [IRNode] {
            guard node.domain.isEmpty || node.domain == "ai.onnx" else { return [node] }
            var node = node
            let opset = graph.opsetVersion
            switch node.opType {
            case "Clip":
                moveClipBounds(&node)
            case "Split":
                moveIntsToInput(&node, attribute: "split", slot: 1)
            case "Squeeze", "Unsqueeze", "ReduceMean", "ReduceMax", "ReduceSum":
                moveIntsToInput(&node, attribute: "axes", slot: 1)
            case "Pad" where opset < 11:
                movePadAttributes(&node)
            case "Slice" where opset < 10:
                moveSliceAttributes(&node)
            case "Upsample":
                try upsampleToResize(&node)
            case "Resize" where opset < 11:
                resize10ToResize11(&node)
            case "Softmax" where opset < 13, "LogSoftmax" where opset < 13:
                return softmaxToOpset13(node)
            case "BatchNormalization":
                try dropUnusedBatchNormOutputs(&node)
            case "Cast":
                if node.attributes["to"] == .int(Int64(ONNXElementType.double)) {
                    node.attributes["to"] = .int(Int64(ONNXElementType.float))
                }
            default:
                break
            }
            return [node]
        }

        /// Adds a constant and returns its (fresh) name.
        mutating func addConstant(_ tensor: IRTensorData, base: String) -> String {
            let name = names.fresh(base)
            graph.initializers[name] = tensor
            return name
        }

        /// Puts `value` in input slot `slot`, padding skipped optional slots with `""`.
        func setInput(_ node: inout IRNode, slot: Int, to value: String) {
            while node.inputs.count <= slot { node.inputs.append("") }
            node.inputs[slot] = value
        }

        /// Drops trailing omitted inputs, which ONNX allows but which say nothing.
        func trimTrailingEmptyInputs(_ node: inout IRNode) {
            while node.inputs.count > 1, node.inputs.last == "" { node.inputs.removeLast() }
        }

        mutating func moveIntsToInput(_ node: inout IRNode, attribute: String, slot: Int) {
            guard let values = node.attributes.removeValue(forKey: attribute)?.intsFromIR else { return }
            let name = addConstant(IRTensorData(int64s: values, shape: [values.count]), base: "\(node.name)_\(attribute)")
            setInput(&node, slot: slot, to: name)
        }

        /// A float scalar constant of the type of `like` (float16 graphs need float16 bounds), float32 otherwise.
        mutating func addFloatScalar(_ value: Float, like other: String, base: String) -> String {
            let dtype = graph.declaredDType(of: other) ?? .float32
            let tensor = IRTensorData(floats: [value], shape: [], dtype: dtype) ?? IRTensorData(floats: [value], shape: [])
            return addConstant(tensor, base: base)
        }

        /// Clip before opset 11: `min`/`max` attributes (defaults ∓FLT_MAX) → optional inputs 1 and 2.
        mutating func moveClipBounds(_ node: inout IRNode) {
            let lower = node.attributes.removeValue(forKey: "min")?.floatFromIR
            let upper = node.attributes.removeValue(forKey: "max")?.floatFromIR
            guard let input = node.inputs.first else { return }
            if let lower { setInput(&node, slot: 1, to: addFloatScalar(lower, like: input, base: "\(node.name)_min")) }
            if let upper { setInput(&node, slot: 2, to: addFloatScalar(upper, like: input, base: "\(node.name)_max")) }
        }

        /// Pad before opset 11: `pads` (Pad-1: `paddings`) and `value` attributes → inputs 1 and 2.
        mutating func movePadAttributes(_ node: inout IRNode) {
            let pads = (node.attributes.removeValue(forKey: "pads") ?? node.attributes.removeValue(forKey: "paddings"))?
                .intsFromIR
            let value = node.attributes.removeValue(forKey: "value")?.floatFromIR
            guard let input = node.inputs.first, let pads else { return }
            setInput(&node, slot: 1, to: addConstant(IRTensorData(int64s: pads, shape: [pads.count]),
                                                    base: "\(node.name)_pads"))
            if let value, value != 0 {
                setInput(&node, slot: 2, to: addFloatScalar(value, like: input, base: "\(node.name)_value"))
            }
        }

        /// Slice before opset 10: `starts`, `ends`, `axes` attributes → inputs 1, 2, 3.
        mutating func moveSliceAttributes(_ node: inout IRNode) {
            guard let starts = node.attributes["starts"]?.intsFromIR, let ends = node.attributes["ends"]?.intsFromIR
            else { return }
            let axes = node.attributes["axes"]?.intsFromIR
            for key in ["starts", "ends", "axes"] { node.attributes[key] = nil }
            setInput(&node, slot: 1, to: addConstant(IRTensorData(int64s: starts, shape: [starts.count]),
                                                    base: "\(node.name)_starts"))
            setInput(&node, slot: 2, to: addConstant(IRTensorData(int64s: ends, shape: [ends.count]),
                                                    base: "\(node.name)_ends"))
            if let axes {
                setInput(&node, slot: 3, to: addConstant(IRTensorData(int64s: axes, shape: [axes.count]),
                                                        base: "\(node.name)_axes"))
            }
        }

        /// BatchNormalization's training outputs (running and saved statistics) must be unused: inference never
        /// produces them.
        mutating func dropUnusedBatchNormOutputs(_ node: inout IRNode) throws {
            guard node.outputs.count > 1 else { return }
            for extra in node.outputs.dropFirst() where !extra.isEmpty {
                guard uses.consumers(of: extra).isEmpty, !uses.graphOutputs.contains(extra) else {
                    throw ConvertError.unsupported("BatchNormalization node '\(node.name)' is in training mode: its "
                        + "statistics output '\(extra)' is used")
                }
            }
            node.outputs = [node.outputs[0]]
        }
    }
}

extension IRAttribute {
    /// Integer list of an `.ints` (or single `.int`) attribute.
    var intsFromIR: [Int64]? {
        switch self {
        case .ints(let values): return values
        case .int(let value): return [value]
        default: return nil
        }
    }

    /// Float of a `.float` (or `.int`) attribute.
    var floatFromIR: Float? {
        switch self {
        case .float(let value): return value
        case .int(let value): return Float(value)
        default: return nil
        }
    }

    /// Integer of an `.int` attribute.
    var intFromIR: Int64? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// String of a `.string` attribute.
    var stringFromIR: String? {
        if case .string(let value) = self { return value }
        return nil
    }
}
