import Sparrow

/// Fuses an elementwise activation into the Conv, ConvTranspose, Gemm or MatMul that produces its input, so the
/// kernel applies it while the output tile is still in registers instead of a second pass over memory.
///
/// The producer gets `activation` (`.int`, a `FusedActivation` raw value) and, where the activation has
/// parameters, `activation_alpha` / `activation_beta` (`.float`): Clip's min/max (missing bounds are ∓∞),
/// LeakyRelu's alpha, HardSigmoid's alpha/beta. It then writes the activation's output name. Conditions: the
/// producer's output is read by the activation alone and is not a graph output, Clip's bounds are constants, and
/// the producer has no activation yet (one per producer).
public struct FuseActivationPass: GraphPass {
    public var name: String { "fuse-activation" }

    public init() {}

    static let producers: Set<String> = ["Conv", "ConvTranspose", "Gemm", "MatMul"]

    public func run(_ graph: inout IRGraph) throws {
        let uses = IRUseIndex(graph)
        var removed = Set<Int>()
        for index in graph.nodes.indices {
            let activation = graph.nodes[index]
            guard activation.domain.isEmpty, activation.outputs.count == 1, let input = activation.inputs.first,
                  !input.isEmpty, let producerIndex = uses.producer[input], !removed.contains(producerIndex),
                  uses.hasSingleInternalConsumer(input)
            else { continue }
            var producer = graph.nodes[producerIndex]
            guard producer.domain.isEmpty, Self.producers.contains(producer.opType), producer.outputs.first == input,
                  producer.attributes["activation"]?.intFromIR ?? 0 == FusedActivation.none.rawValue,
                  let fused = Self.fusedForm(of: activation, in: graph)
            else { continue }
            producer.attributes["activation"] = .int(fused.kind.rawValue)
            if let alpha = fused.alpha { producer.attributes["activation_alpha"] = .float(alpha) }
            if let beta = fused.beta { producer.attributes["activation_beta"] = .float(beta) }
            producer.outputs[0] = activation.outputs[0]
            graph.nodes[producerIndex] = producer
            removed.insert(index)
        }
        graph.removeNodes(at: removed)
    }

    /// The fused-activation code and parameters equivalent to `node`, or `nil` if it is not a fusable activation.
    static func fusedForm(of node: IRNode, in graph: IRGraph) -> (kind: FusedActivation, alpha: Float?, beta: Float?)? {
        switch node.opType {
        case "Relu": return (.relu, nil, nil)
        case "Sigmoid": return (.sigmoid, nil, nil)
        case "Tanh": return (.tanh, nil, nil)
        case "HardSwish": return (.hardSwish, nil, nil)
        case "SiLU": return (.silu, nil, nil)
        case "LeakyRelu":
            return (.leakyRelu, node.attributes["alpha"]?.floatFromIR ?? 0.01, nil)
        case "HardSigmoid":
            return (.hardSigmoid, node.attributes["alpha"]?.floatFromIR ?? 0.2, node.attributes["beta"]?.floatFromIR ?? 0.5)
        case "Clip":
            guard let lower = clipBound(node, slot: 1, attribute: "min", in: graph),
                  let upper = clipBound(node, slot: 2, attribute: "max", in: graph) else { return nil }
            return (.clip, lower ?? -.infinity, upper ?? .infinity)
        default:
            return nil
        }
    }

    /// A Clip bound: `.some(nil)` when absent, `.some(value)` for a one-element constant (or a pre-opset-11
    /// attribute), `nil` when it is computed at run time and cannot be fused.
    private static func clipBound(_ node: IRNode, slot: Int, attribute: String, in graph: IRGraph) -> Float?? {
        if node.inputs.count > slot, !node.inputs[slot].isEmpty {
            guard let value = graph.initializers[node.inputs[slot]]?.scalarFloat() else { return nil }
            return .some(value)
        }
        if let value = node.attributes[attribute]?.floatFromIR { return .some(value) }
        return .some(nil)
    }
}
