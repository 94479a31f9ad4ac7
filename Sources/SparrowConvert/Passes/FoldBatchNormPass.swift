import Foundation
import Sparrow

/// Folds an inference BatchNormalization into the Conv, ConvTranspose or Gemm that produces its input.
///
/// BN computes `y = (x − mean) · s + B` per channel with `s = scale / √(var + ε)`; for a linear producer
/// `x = W ∗ a + b` this is `(W·s) ∗ a + (b − mean)·s + B`, so scaling each output channel's weights by `s` and
/// replacing the bias removes the node. The arithmetic runs in Double and rounds once to Float.
///
/// Conditions: the producer's output is read by the BN alone and is not a graph output; the producer's weight and
/// bias and all four BN parameters are float32 constants of matching sizes. Anything else leaves the BN in place
/// (the runtime implements it). Weights shared with another node are copied, never changed under it.
public struct FoldBatchNormPass: GraphPass {
    public var name: String { "fold-batchnorm" }

    public init() {}

    public func run(_ graph: inout IRGraph) throws {
        let uses = IRUseIndex(graph)
        var names = IRNameScope(graph)
        var removed = Set<Int>()
        for index in graph.nodes.indices {
            let bn = graph.nodes[index]
            guard bn.opType == "BatchNormalization", bn.domain.isEmpty, bn.inputs.count == 5, bn.outputs.count == 1,
                  bn.attributes["training_mode"]?.intFromIR ?? 0 == 0,
                  bn.attributes["spatial"]?.intFromIR ?? 1 == 1,
                  let producerIndex = uses.producer[bn.inputs[0]], !removed.contains(producerIndex),
                  uses.hasSingleInternalConsumer(bn.inputs[0]),
                  graph.nodes[producerIndex].outputs.first == bn.inputs[0],
                  let statistics = Self.statistics(of: bn, in: graph)
            else { continue }

            var producer = graph.nodes[producerIndex]
            guard producer.domain.isEmpty,
                  let folded = Self.fold(producer, statistics: statistics, in: graph) else { continue }
            producer.inputs[1] = Self.store(folded.weight, replacing: producer.inputs[1], base: "\(producer.name)_weight",
                                            uses: uses, names: &names, in: &graph)
            let biasSlot = 2
            let oldBias = producer.inputs.count > biasSlot ? producer.inputs[biasSlot] : ""
            let biasName = Self.store(folded.bias, replacing: oldBias, base: "\(producer.name)_bias",
                                      uses: uses, names: &names, in: &graph)
            while producer.inputs.count <= biasSlot { producer.inputs.append("") }
            producer.inputs[biasSlot] = biasName
            if producer.opType == "Gemm" { producer.attributes["beta"] = .float(1) }
            producer.outputs[0] = bn.outputs[0]
            graph.nodes[producerIndex] = producer
            removed.insert(index)
        }
        graph.removeNodes(at: removed)
    }

    /// Per-channel `s` and `B − mean·s`, in Double.
    struct Statistics {
        var scale: [Double]
        var shift: [Double]
        var mean: [Double]
        var channels: Int { scale.count }
    }

    static func statistics(of bn: IRNode, in graph: IRGraph) -> Statistics? {
        let parameters = bn.inputs[1...4].map { graph.initializers[$0]?.floatValues()?.map(Double.init) }
        guard let gamma = parameters[0], let beta = parameters[1], let mean = parameters[2],
              let variance = parameters[3],
              [beta.count, mean.count, variance.count].allSatisfy({ $0 == gamma.count }) else { return nil }
        let epsilon = Double(bn.attributes["epsilon"]?.floatFromIR ?? 1e-5)
        let scale = (0..<gamma.count).map { gamma[$0] / (variance[$0] + epsilon).squareRoot() }
        let shift = (0..<gamma.count).map { beta[$0] - mean[$0] * scale[$0] }
        return Statistics(scale: scale, shift: shift, mean: mean)
    }

    /// New weight and bias of `producer`, or `nil` if it cannot absorb the BN.
    static func fold(_ producer: IRNode, statistics: Statistics, in graph: IRGraph)
        -> (weight: IRTensorData, bias: IRTensorData)?
    {
        guard producer.inputs.count >= 2, let weightTensor = graph.initializers[producer.inputs[1]],
              weightTensor.dtype == .float32, let weight = weightTensor.floatValues() else { return nil }
        let biasName = producer.inputs.count > 2 ? producer.inputs[2] : ""
        let shape = weightTensor.shape
        let channels = statistics.channels

        // channelOf(i): the output channel weight element i contributes to.
        let channelOf: (Int) -> Int
        var oldBias: [Double]
        switch producer.opType {
        case "Conv":
            guard shape.count >= 2, shape[0] == channels else { return nil }
            let perChannel = weight.count / max(channels, 1)
            channelOf = { $0 / perChannel }
            guard let bias = bias(biasName, channels: channels, in: graph) else { return nil }
            oldBias = bias
        case "ConvTranspose":
            // Weight [C_in, M/group, k...]: input-channel block c/(C_in/group) picks the group, dim 1 the channel.
            let group = Int(producer.attributes["group"]?.intFromIR ?? 1)
            guard shape.count >= 2, group >= 1, shape[0] % group == 0, shape[1] * group == channels else { return nil }
            let kernel = shape.dropFirst(2).reduce(1, *)
            let inputsPerGroup = shape[0] / group
            channelOf = { i in
                let inputChannel = i / (shape[1] * kernel)
                return (inputChannel / inputsPerGroup) * shape[1] + (i / kernel) % shape[1]
            }
            guard let bias = bias(biasName, channels: channels, in: graph) else { return nil }
            oldBias = bias
        case "Gemm":
            // Y = alpha·A·B' + beta·C with B' = transB ? Bᵀ : B; the BN channel is Y's column n.
            guard shape.count == 2 else { return nil }
            let transB = producer.attributes["transB"]?.intFromIR ?? 0 != 0
            guard (transB ? shape[0] : shape[1]) == channels else { return nil }
            channelOf = transB ? { $0 / shape[1] } : { $0 % shape[1] }
            let beta = Double(producer.attributes["beta"]?.floatFromIR ?? 1)
            guard let bias = gemmBias(biasName, channels: channels, in: graph) else { return nil }
            oldBias = bias.map { $0 * beta }
        default:
            return nil
        }

        var newWeight = [Float](repeating: 0, count: weight.count)
        for i in weight.indices { newWeight[i] = Float(Double(weight[i]) * statistics.scale[channelOf(i)]) }
        let newBias = (0..<channels).map { Float(oldBias[$0] * statistics.scale[$0] + statistics.shift[$0]) }
        return (IRTensorData(floats: newWeight, shape: shape), IRTensorData(floats: newBias, shape: [channels]))
    }

    /// A Conv bias: absent (zeros) or a float32 constant of `channels` elements.
    private static func bias(_ name: String, channels: Int, in graph: IRGraph) -> [Double]? {
        if name.isEmpty { return [Double](repeating: 0, count: channels) }
        guard let tensor = graph.initializers[name], tensor.dtype == .float32, let values = tensor.floatValues(),
              values.count == channels else { return nil }
        return values.map(Double.init)
    }

    /// A Gemm C that is the same for every row: shapes [], [1], [N], [1, N]. C of shape [M, N] or [M, 1] varies
    /// by row and cannot become a per-channel bias.
    private static func gemmBias(_ name: String, channels: Int, in graph: IRGraph) -> [Double]? {
        if name.isEmpty { return [Double](repeating: 0, count: channels) }
        guard let tensor = graph.initializers[name], tensor.dtype == .float32, let values = tensor.floatValues()
        else { return nil }
        switch tensor.shape {
        case [], [1], [1, 1]:
            return [Double](repeating: Double(values[0]), count: channels)
        case [channels], [1, channels]:
            return values.map(Double.init)
        default:
            return nil
        }
    }

    /// Stores `tensor` under `name` if only the folded node reads it, otherwise under a fresh name, so that other
    /// readers of a shared constant keep the original.
    private static func store(_ tensor: IRTensorData, replacing name: String, base: String, uses: IRUseIndex,
                              names: inout IRNameScope, in graph: inout IRGraph) -> String {
        let exclusive = !name.isEmpty && uses.consumers(of: name).count == 1 && !uses.graphOutputs.contains(name)
            && !graph.inputs.contains { $0.name == name }
        let target = exclusive ? name : names.fresh(base)
        graph.initializers[target] = tensor
        return target
    }
}
