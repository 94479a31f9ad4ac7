import SparrowConvert

/// Parsing and cross-checks of `sparrow convert`'s structured-pruning and fidelity options. Every malformed value
/// or combination is a `CLIError` that names the option.
enum StructuredPruneArguments {
    /// `--prune-channels`: a fraction in [0, 1).
    static func channelFraction(_ value: Double) throws -> Double {
        guard value >= 0, value < 1 else {
            throw CLIError("--prune-channels \(value) is outside [0, 1): give the fraction of each Conv's output "
                + "channels to remove, e.g. 0.3")
        }
        return value
    }

    /// `--prune-blocks`: a positive count.
    static func blockCount(_ value: Int) throws -> Int {
        guard value >= 1 else {
            throw CLIError("--prune-blocks \(value) is not a positive number of residual blocks to remove")
        }
        return value
    }

    /// `--prune-target-fidelity`: a cosine similarity in (0, 1].
    static func targetFidelity(_ value: Double) throws -> Double {
        guard value > 0, value <= 1 else {
            throw CLIError("--prune-target-fidelity \(value) is outside (0, 1]: give the minimum output cosine "
                + "similarity, e.g. 0.99")
        }
        return value
    }

    /// A report file needs the step that writes it, and may not overwrite the input or the converted model.
    static func reportPath(_ path: String?, option: String, requires step: String, given: Bool, input: String)
        throws {
        guard let path else { return }
        guard given else { throw CLIError("\(option) needs \(step)") }
        guard path != input else { throw CLIError("\(option) \(path) is the input itself") }
    }
}
