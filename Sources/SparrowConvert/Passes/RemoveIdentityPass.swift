import Sparrow

/// Removes nodes that pass their input through unchanged at inference: Identity, Dropout (whose mask output must
/// be unused) and Cast to the type the input already has (when the input's type is declared).
///
/// Readers of the removed output read the input instead. When the removed output is a graph output, its name is
/// part of the model's interface, so the *input* is renamed to it (its producer writes the graph output
/// directly); when that is impossible (the input is a graph input, a constant or itself a graph output) the node
/// stays: the runtime implements Identity and Cast.
public struct RemoveIdentityPass: GraphPass {
    public var name: String { "remove-identity" }

    public init() {}

    public func run(_ graph: inout IRGraph) throws {
        var index = 0
        while index < graph.nodes.count {
            let node = graph.nodes[index]
            guard Self.isPassThrough(node, in: graph), let input = node.inputs.first, let output = node.outputs.first,
                  !input.isEmpty, !output.isEmpty, input != output
            else {
                index += 1
                continue
            }
            if graph.isGraphOutput(output) {
                let inputIsRenamable = graph.initializers[input] == nil && !graph.inputs.contains { $0.name == input }
                    && !graph.isGraphOutput(input)
                guard inputIsRenamable else {
                    index += 1
                    continue
                }
                graph.nodes.remove(at: index)
                // The output name no longer has a producer, so renaming the input to it keeps single assignment.
                let outputInfo = graph.valueInfo[output]
                graph.renameValue(input, to: output)
                if let outputInfo { graph.valueInfo[output] = outputInfo }
            } else {
                graph.nodes.remove(at: index)
                graph.replaceUses(of: output, with: input)
                graph.valueInfo[output] = nil
            }
        }
    }

    /// Whether `node` computes the identity at inference.
    static func isPassThrough(_ node: IRNode, in graph: IRGraph) -> Bool {
        guard node.domain.isEmpty || node.domain == "ai.onnx" else { return false }
        switch node.opType {
        case "Identity":
            return node.outputs.count == 1
        case "Dropout":
            // Outputs: output, optional mask. A mask someone reads would have to be computed.
            guard node.outputs.count <= 2 else { return false }
            if node.outputs.count == 2, !node.outputs[1].isEmpty {
                let mask = node.outputs[1]
                if graph.isGraphOutput(mask) || graph.nodes.contains(where: { $0.inputs.contains(mask) }) { return false }
            }
            return true
        case "Cast":
            guard node.outputs.count == 1, let target = node.attributes["to"]?.intFromIR,
                  let targetType = ONNXElementType.dtype(Int(target)),
                  let input = node.inputs.first, let inputType = graph.declaredDType(of: input)
            else { return false }
            return inputType == targetType
        default:
            return false
        }
    }
}
