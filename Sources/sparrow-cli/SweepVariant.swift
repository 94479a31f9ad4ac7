import Foundation
import SparrowConvert

/// One compressed form of a model that `sparrow bench --sweep` converts and measures. The list of variants and
/// the conversion options each needs live here and nowhere else: a compression the converter learns (int8) is
/// added to the sweep by giving its case options in `conversion(base:)`.
struct SweepVariant: Equatable {
    enum Kind: Equatable {
        /// The model as converted, fp32: the reference of every speed-up and fidelity figure.
        case dense
        /// `--prune S`: magnitude pruning with the default skips, weights above the crossover stored sparse.
        case magnitude(Double)
        /// `--prune-channels F`: structured pruning of output channels.
        case channels(Double)
        /// int8 weights, fp32 activations (`--quantize int8-weights`).
        case int8Weights
        /// Magnitude pruning to S, then int8 weights (int8 CSR values).
        case sparseInt8Weights(Double)
        /// int8 weights and activations.
        case int8
        /// Magnitude pruning to S, then int8 weights and activations.
        case sparseInt8(Double)
    }

    /// Whether this build can make the variant.
    enum Conversion {
        case options(ConvertOptions)
        case unavailable(reason: String)
    }

    let kind: Kind

    /// The name of the variant and of its file (`<name>.sparrow`): `dense`, `prune-0.9`, `channels-0.3`,
    /// `int8-weights`, `int8`, `prune-0.9-int8`.
    var name: String {
        switch kind {
        case .dense: return "dense"
        case .magnitude(let fraction): return "prune-\(Self.fraction(fraction))"
        case .channels(let fraction): return "channels-\(Self.fraction(fraction))"
        case .int8Weights: return "int8-weights"
        case .sparseInt8Weights(let fraction): return "prune-\(Self.fraction(fraction))-int8-weights"
        case .int8: return "int8"
        case .sparseInt8(let fraction): return "prune-\(Self.fraction(fraction))-int8"
        }
    }

    /// The magnitude-pruning fraction asked for, if any.
    var requestedSparsity: Double? {
        switch kind {
        case .magnitude(let fraction), .sparseInt8(let fraction), .sparseInt8Weights(let fraction): return fraction
        case .dense, .channels, .int8Weights, .int8: return nil
        }
    }

    /// The `sparrow convert` options that make the variant, as a person would type them.
    var convertArguments: String {
        switch kind {
        case .dense: return ""
        case .magnitude(let fraction): return "--prune \(Self.fraction(fraction))"
        case .channels(let fraction): return "--prune-channels \(Self.fraction(fraction))"
        case .int8Weights: return "--quantize int8-weights"
        case .sparseInt8Weights(let fraction): return "--prune \(Self.fraction(fraction)) --quantize int8-weights"
        case .int8: return "(int8)"
        case .sparseInt8(let fraction): return "--prune \(Self.fraction(fraction)) (int8)"
        }
    }

    /// The conversion options of this variant on top of `base` (the input shapes), or why this build cannot
    /// make it.
    func conversion(base: ConvertOptions) -> Conversion {
        var options = base
        switch kind {
        case .dense:
            return .options(options)
        case .magnitude(let fraction):
            options.prune = fraction
            return .options(options)
        case .channels(let fraction):
            options.pruneChannels = fraction
            return .options(options)
        case .int8Weights:
            options.quantize = .int8Weights
            return .options(options)
        case .sparseInt8Weights(let fraction):
            options.prune = fraction
            options.quantize = .int8Weights
            return .options(options)
        case .int8, .sparseInt8:
            return .unavailable(reason: Self.noInt8)
        }
    }

    static let noInt8 = "not available in this build (int8 activations and kernels are not in the runtime yet)"

    /// Every variant of a sweep, in report order: dense, each magnitude sparsity, each channel fraction, then the
    /// int8 forms (the sparse ones at 0.9 if asked for, else at the highest sparsity).
    static func all(sparsities: [Double], channelFractions: [Double]) -> [SweepVariant] {
        var kinds: [Kind] = [.dense]
        kinds += sparsities.map(Kind.magnitude)
        kinds += channelFractions.map(Kind.channels)
        let level = sparsities.contains(0.9) ? 0.9 : sparsities.max()
        kinds.append(.int8Weights)
        if let level { kinds.append(.sparseInt8Weights(level)) }
        kinds.append(.int8)
        if let level { kinds.append(.sparseInt8(level)) }
        return kinds.map(SweepVariant.init)
    }

    /// `0.9`, `0.95`, `0.3`: the shortest form that reads back as the same number.
    static func fraction(_ value: Double) -> String {
        var text = String(format: "%.4f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
