import SparrowConvert

/// Parsing of `sparrow convert`'s pruning options into `ConvertOptions` fields. Every malformed value is a
/// `CLIError` that names the option and the accepted forms.
enum PruneArguments {
    /// A fraction in [0, 1) for `option`.
    static func fraction(_ value: Double, option: String) throws -> Double {
        guard value >= 0, value < 1 else {
            throw CLIError("\(option) \(value) is outside [0, 1): give the fraction of weights to zero, e.g. 0.9")
        }
        return value
    }

    /// `global` or `layer`.
    static func scope(_ text: String) throws -> PruneScope {
        guard let scope = PruneScope(rawValue: text.trimmed.lowercased()) else {
            throw CLIError("--prune-scope '\(text)' is not one of: global, layer")
        }
        return scope
    }

    /// Comma-separated `first`, `last`, `depthwise`, or `none` alone.
    static func skip(_ text: String) throws -> Set<PruneSkip> {
        let words = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmed.lowercased() }
        if words == ["none"] { return [] }
        var result = Set<PruneSkip>()
        for word in words {
            guard let skip = PruneSkip(rawValue: word) else {
                let shown = word.isEmpty ? "an empty word" : "'\(word)'"
                throw CLIError("--prune-skip '\(text)' has \(shown); use a comma-separated list of first, last, "
                    + "depthwise, or none")
            }
            result.insert(skip)
        }
        return result
    }

    /// One `NAME=FRACTION`; the name is everything before the last `=`.
    static func layer(_ argument: String) throws -> (name: String, fraction: Double) {
        guard let separator = argument.lastIndex(of: "=") else {
            throw CLIError("--prune-layer '\(argument)' is not NAME=FRACTION (e.g. conv_5_node=0.8)")
        }
        let name = String(argument[..<separator])
        let value = String(argument[argument.index(after: separator)...]).trimmed
        guard !name.isEmpty else { throw CLIError("--prune-layer '\(argument)' has no layer name before '='") }
        guard let fraction = Double(value), fraction.isFinite else {
            throw CLIError("--prune-layer '\(argument)': '\(value)' is not a number (a fraction in [0, 1))")
        }
        return (name, try self.fraction(fraction, option: "--prune-layer \(name)="))
    }

    /// Every `--prune-layer` argument by layer name.
    static func layers(_ arguments: [String]) throws -> [String: Double] {
        var result: [String: Double] = [:]
        for argument in arguments {
            let (name, fraction) = try layer(argument)
            guard result[name] == nil else { throw CLIError("--prune-layer names layer '\(name)' twice") }
            result[name] = fraction
        }
        return result
    }

    /// `auto`, `csr`, `coo` or `dense`.
    static func format(_ text: String) throws -> SparseFormat {
        guard let format = SparseFormat(rawValue: text.trimmed.lowercased()) else {
            throw CLIError("--sparse-format '\(text)' is not one of: auto, csr, coo, dense")
        }
        return format
    }
}

extension String {
    fileprivate var trimmed: String {
        var text = Substring(self)
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return String(text)
    }
}
