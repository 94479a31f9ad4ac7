import Foundation

/// What `ChannelPruning.apply` removed, producer by producer, and what it cost to stay exact.
public struct ChannelPruningReport: Sendable, Encodable {
    /// One Conv whose output channels were removed.
    public struct Producer: Sendable, Encodable {
        /// The Conv node's name (after the pass pipeline; the ONNX node's name when it had one).
        public let node: String
        /// The name of the Conv's weight initializer before pruning (the ONNX initializer's name when
        /// BatchNormalization was folded into it in place).
        public let weight: String
        /// Output channels before pruning.
        public let channelsBefore: Int
        /// Output channels kept.
        public let channelsAfter: Int
        /// Original indices of the removed output channels, ascending.
        public let removedChannels: [Int]
        /// Multiply–accumulates of this Conv alone (batch 1), before and after pruning the whole graph
        /// (its input channels may have been pruned too).
        public let macsBefore: Int
        public let macsAfter: Int
        /// Whether the removed channels' constant contribution to some consumer was not spatially uniform, so that
        /// the consumer needed a bias map instead of a bias fold.
        public let needsBiasMap: Bool
    }

    /// A Conv that could have been a producer but was left alone, with the reason.
    public struct Skipped: Sendable, Encodable {
        /// The Conv node's name.
        public let node: String
        /// The first obstacle found, e.g. the residual Add its channels reach.
        public let reason: String
    }

    /// The fraction of each producer's channels that was asked to be removed.
    public var fraction: Double
    /// Layers of at least this many channels keep a multiple of it (`0`: exact rounding down).
    public var channelMultiple: Int
    /// Pruned Convs, in graph order.
    public var producers: [Producer] = []
    /// Convs with `group` 1 left whole, in graph order.
    public var skipped: [Skipped] = []
    /// Multiply–accumulates of every Conv, ConvTranspose, Gemm and MatMul at batch 1 (symbolic dimensions at 1).
    public var macsBefore = 0
    /// Multiply–accumulates after pruning, counted the same way.
    public var macsAfter = 0
    /// Consumers whose share of the removed channels' constant output was folded into their bias.
    public var biasFolds = 0
    /// Consumers that got an `Add` of a constant bias map (not spatially uniform, or a MatMul without bias).
    public var biasMaps = 0
    /// Fused activations moved out of a consumer into a separate node so that its bias map is added first.
    public var movedActivations = 0
    /// Why nothing at all could be analysed, if so (e.g. shape inference failed).
    public var note: String?

    /// An empty report for a run with these settings.
    public init(fraction: Double, channelMultiple: Int) {
        self.fraction = fraction
        self.channelMultiple = channelMultiple
    }

    /// Channels removed in total.
    public var removedChannels: Int { producers.reduce(0) { $0 + $1.removedChannels.count } }

    /// Human-readable lines for `sparrow convert --prune-channels`.
    public var lines: [String] {
        var result = [String(format: "channel pruning %.2f: %d producers, %d channels removed", fraction,
                             producers.count, removedChannels)]
        if let note { result.append("  note: \(note)") }
        let width = min(max(producers.map(\.node.count).max() ?? 0, 10), 40)
        for producer in producers {
            let name = producer.node.padding(toLength: width, withPad: " ", startingAt: 0)
            result.append("  " + name + String(format: " %5d → %5d ch  %9.2f → %9.2f MMAC%@", producer.channelsBefore,
                                               producer.channelsAfter, Double(producer.macsBefore) / 1e6,
                                               Double(producer.macsAfter) / 1e6,
                                               producer.needsBiasMap ? "  (bias map)" : ""))
        }
        if !skipped.isEmpty { result.append("  not prunable: \(skipped.count) convs") }
        result.append("  consumers: \(biasFolds) bias folds, \(biasMaps) bias maps, \(movedActivations) activations moved out")
        let ratio = macsBefore > 0 ? Double(macsAfter) / Double(macsBefore) : 1
        result.append(String(format: "  MACs: %.1f M → %.1f M (%.1f%%)", Double(macsBefore) / 1e6,
                             Double(macsAfter) / 1e6, ratio * 100))
        return result
    }

    /// The report as JSON (snake_case keys), for `--prune-channels-report` and scripts/check_channel_pruning.py.
    /// - Throws: `EncodingError` (does not happen for this type's values).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
