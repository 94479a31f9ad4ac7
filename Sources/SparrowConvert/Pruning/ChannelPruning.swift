import Foundation
import Sparrow

/// Structured channel pruning: removes the output channels of smallest L1 weight norm from every Conv whose
/// channels can be followed to their consumers, and rewrites the graph so that it computes exactly what the
/// original model computes with those channels' weights set to zero (the *masked model*).
///
/// Runs on a graph that went through the standard pass pipeline (BatchNormalization folded into Conv weights and
/// bias, activations fused as `activation*` attributes) and before lowering.
///
/// **Groups.** A producer is a Conv with `group` 1. Its channels are followed through element-wise unary ops,
/// MaxPool/AveragePool/GlobalAveragePool/GlobalMaxPool, ReduceMean/ReduceMax/ReduceSum over spatial axes,
/// depthwise Convs (`group` = channels, one filter per channel: the channel is removed there too and followed
/// further, as in MobileNetV2's expand → depthwise → project), Concat along channels (offsets mapped), and
/// Flatten/Reshape/Squeeze of `[N, C, 1, 1]` to `[N, C]`, down to the consumers that absorb them: Convs with `group`
/// 1 (input channels removed) and Gemm/MatMul with a constant weight (input features removed). Channels that meet a
/// multi-input element-wise op (a residual Add), a graph output, or any other op are not pruned at all: tied
/// channels would have to be pruned together across every producer of the tie, which this pass does not attempt.
///
/// **Exactness.** A zeroed channel outputs the constant `act(bias_c)` at every pixel; in the masked model that
/// constant still flows into the consumers. The removed channels' total share of each consumer's pre-activation
/// output does not depend on the model's input, so it is computed once, by running the removed channels' chain
/// (producer with zero weights, depthwise Convs, pools, ...) and the consumer restricted to them on Sparrow's own
/// kernels. A share that is the same at every pixel is added to the consumer's bias; otherwise (a padded depthwise
/// or k×k Conv sees the constant only partly at the borders) it becomes a constant bias map, `Add(consumer, map)`
/// inserted after the consumer, with the consumer's fused activation moved after the Add.
public enum ChannelPruning {
    /// Prunes `fraction` of the output channels of every prunable Conv of `graph`.
    ///
    /// Per producer of `C` channels, `floor(fraction · C)` channels with the smallest L1 norm of their weights are
    /// removed (ties: lower index first), keeping at least one; when `C ≥ 2 · channelMultiple`, the kept count is
    /// rounded up to a multiple of `channelMultiple` so that kernels see SIMD-friendly widths.
    /// - Parameters:
    ///   - graph: A graph after `PassPipeline.standard`; rewritten in place.
    ///   - fraction: In [0, 1).
    ///   - inputShapes: Sizes of symbolic input dimensions (as `--input-shape`); dimensions still symbolic are
    ///     planned at two sizes, and a group whose channel or spatial sizes depend on them is left alone.
    ///   - channelMultiple: `0` or `1` for plain rounding down.
    /// - Returns: What was pruned and the multiply–accumulates before and after.
    /// - Throws: `ConvertError.invalidArgument` for a bad fraction; errors of planning the pruned graph (which
    ///   would be a bug of this pass).
    public static func apply(to graph: inout IRGraph, fraction: Double, inputShapes: [String: [Int]] = [:],
                             channelMultiple: Int = 8) throws -> ChannelPruningReport {
        guard fraction.isFinite, fraction >= 0, fraction < 1 else {
            throw ConvertError.invalidArgument("the pruning fraction must be in [0, 1), got \(fraction)")
        }
        guard channelMultiple >= 0 else {
            throw ConvertError.invalidArgument("the channel multiple must not be negative, got \(channelMultiple)")
        }
        var report = ChannelPruningReport(fraction: fraction, channelMultiple: channelMultiple)
        let shapes: Shapes
        do {
            shapes = try inferShapes(graph, inputShapes: inputShapes)
        } catch {
            report.note = "shapes could not be inferred, nothing pruned: \(error)"
            return report
        }
        let macsBefore = macsByNode(graph, shapes: shapes)
        report.macsBefore = macsBefore.values.reduce(0, +)

        let uses = IRUseIndex(graph)
        var plans: [Plan] = []
        for index in graph.nodes.indices where isCandidate(graph.nodes[index]) {
            do {
                let group = try group(of: index, in: graph, uses: uses, shapes: shapes)
                let removed = try selectChannels(of: graph.nodes[index], in: graph, fraction: fraction,
                                                 channelMultiple: channelMultiple)
                guard !removed.isEmpty else { continue }
                plans.append(Plan(group: group, removed: removed))
            } catch let reason as NotPrunable {
                report.skipped.append(.init(node: graph.nodes[index].name, reason: reason.reason))
            }
        }
        guard !plans.isEmpty else {
            report.macsAfter = report.macsBefore
            return report
        }

        // Shares are linear in the removed channels, so each plan's share is computed alone and summed per sink.
        var shares: [Int: Share] = [:]
        var evaluated: [Plan] = []
        for var plan in plans {
            let own: [Int: Share]
            do {
                own = try constantShares(of: plan, in: graph)
            } catch {
                // The runtime rejected the small model of this group's constants: leave the producer alone.
                report.skipped.append(.init(node: plan.group.producerNode.name,
                                            reason: "its removed channels' constants could not be computed: \(error)"))
                continue
            }
            for (sink, share) in own {
                if !share.isSpatiallyUniform { plan.nonUniformSinks.insert(sink) }
                if var sum = shares[sink] {
                    for i in sum.values.indices { sum.values[i] += share.values[i] }
                    shares[sink] = sum
                } else {
                    shares[sink] = share
                }
            }
            evaluated.append(plan)
        }
        plans = evaluated
        try rewrite(&graph, plans: plans, shares: shares, uses: uses, shapes: shapes, report: &report)

        let after = try inferShapes(graph, inputShapes: inputShapes)
        let macsAfter = macsByNode(graph, shapes: after)
        report.macsAfter = macsAfter.values.reduce(0, +)
        for plan in plans {
            let producer = plan.group.producerNode
            report.producers.append(.init(
                node: producer.name, weight: producer.inputs[1], channelsBefore: plan.group.channels,
                channelsAfter: plan.group.channels - plan.removed.count, removedChannels: plan.removed,
                macsBefore: macsBefore[producer.name] ?? 0, macsAfter: macsAfter[producer.name] ?? 0,
                needsBiasMap: !plan.nonUniformSinks.isEmpty))
        }
        return report
    }

    /// Turns `graph` into the masked model of `report`: the weights of every removed channel of every producer
    /// are set to zero (biases kept). `graph` must be the graph `report` was computed on, before pruning.
    /// - Throws: `ConvertError.invalidArgument` when a producer of the report is missing or has other weights.
    public static func mask(_ graph: inout IRGraph, as report: ChannelPruningReport) throws {
        for producer in report.producers {
            guard let index = graph.nodes.firstIndex(where: { $0.name == producer.node && $0.opType == "Conv" }),
                  graph.nodes[index].inputs.count >= 2,
                  let tensor = graph.initializers[graph.nodes[index].inputs[1]], tensor.dtype == .float32,
                  var weight = tensor.floatValues(), tensor.shape.first == producer.channelsBefore
            else {
                throw ConvertError.invalidArgument("the graph has no Conv '\(producer.node)' with \(producer.channelsBefore) float32 output channels")
            }
            let perChannel = weight.count / producer.channelsBefore
            for channel in producer.removedChannels {
                for i in channel * perChannel..<(channel + 1) * perChannel { weight[i] = 0 }
            }
            var names = IRNameScope(graph)
            let name = names.fresh("\(producer.node)_masked_weight")
            graph.initializers[name] = IRTensorData(floats: weight, shape: tensor.shape)
            graph.nodes[index].inputs[1] = name
        }
    }

    // MARK: - Selection

    /// One producer's group and the channels chosen for removal.
    struct Plan {
        var group: Group
        /// Original output-channel indices of the producer, ascending.
        var removed: [Int]
        /// Consumers (node indices) that this plan's constant share reaches unevenly.
        var nonUniformSinks: Set<Int> = []
    }

    /// A Conv with `group` 1 and one output: a possible producer.
    static func isCandidate(_ node: IRNode) -> Bool {
        node.opType == "Conv" && node.domain.isEmpty && node.attributes["group"]?.intFromIR ?? 1 == 1
    }

    /// How many of `channels` to remove.
    static func removalCount(channels: Int, fraction: Double, channelMultiple: Int) -> Int {
        // The epsilon keeps 0.29 · 100 = 28.999… from rounding down to 28.
        var kept = max(channels - Int((fraction * Double(channels) + 1e-9).rounded(.down)), 1)
        if channelMultiple > 1, channels >= 2 * channelMultiple {
            kept = min(channels, (kept + channelMultiple - 1) / channelMultiple * channelMultiple)
        }
        return channels - kept
    }

    /// The output channels of `producer` to remove: the smallest L1 norms of their weights, ascending by index.
    static func selectChannels(of producer: IRNode, in graph: IRGraph, fraction: Double,
                               channelMultiple: Int) throws -> [Int] {
        guard let tensor = graph.initializers[producer.inputs[1]], let weight = tensor.floatValues(),
              let channels = tensor.shape.first, channels > 0 else {
            throw NotPrunable("its weight is not a float constant")
        }
        let count = removalCount(channels: channels, fraction: fraction, channelMultiple: channelMultiple)
        let perChannel = weight.count / channels
        let norms = (0..<channels).map { channel in
            weight[channel * perChannel..<(channel + 1) * perChannel].reduce(0.0) { $0 + Double(abs($1)) }
        }
        let order = (0..<channels).sorted { norms[$0] != norms[$1] ? norms[$0] < norms[$1] : $0 < $1 }
        return order.prefix(count).sorted()
    }
}

extension ChannelPruning {
    /// Why a producer's channels cannot be pruned.
    struct NotPrunable: Error {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }
}
