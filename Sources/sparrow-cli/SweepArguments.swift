import ArgumentParser
import Foundation

/// The options of `sparrow bench --sweep`, parsed with the rest of `bench`'s.
struct SweepArguments: ParsableArguments {
    /// The magnitude-pruning levels of a sweep without `--sparsities`.
    static let defaultSparsities = "0.5,0.7,0.9,0.95"
    /// Rounds (A B C … once each) of a sweep without `--rounds`.
    static let defaultRounds = 5
    /// Timed runs per variant and round without `--runs`.
    static let defaultRuns = 10

    @Flag(help: ArgumentHelp(
        "Convert the ONNX model into variants (dense, pruned at each --sparsities, --prune-channels, int8 forms "
            + "when the converter has them), benchmark them in interleaved rounds, measure fidelity against the "
            + "dense model, and write report.json, report.md and report.svg to --out."))
    var sweep = false

    @Option(help: ArgumentHelp("With --sweep: magnitude-pruning fractions, comma-separated (default: "
                                   + "\(defaultSparsities); 'none' for none).", valueName: "list"))
    var sparsities: String?

    @Option(name: .customLong("prune-channels"), help: ArgumentHelp(
        "With --sweep: structured variants removing these fractions of each Conv's output channels, "
            + "comma-separated (default: none).", valueName: "list"))
    var channelFractions: String?

    @Option(help: ArgumentHelp(
        "With --sweep: a directory of .npy inputs (one sample per file) and an optional labels.npy (integer "
            + "class per output row) for fidelity and accuracy (default: 8 seeded random N(0,1) inputs).",
        valueName: "dir"))
    var calibration: String?

    @Option(help: ArgumentHelp("With --sweep: where the variants and the reports go (default: ./sweep-<model>).",
                               valueName: "dir"))
    var out: String?

    @Option(help: ArgumentHelp(
        "With --sweep: rounds of timed blocks; each round times every variant once (default: \(defaultRounds)).",
        valueName: "n"))
    var rounds: Int?

    /// Whether any option that only a sweep reads was given.
    var givesSweepOptions: Bool {
        sparsities != nil || channelFractions != nil || calibration != nil || out != nil || rounds != nil
    }

    /// `--sparsities` as numbers.
    /// - Throws: `ValidationError` for a word that is not a fraction in (0, 1), or a repeated one.
    func sparsityList() throws -> [Double] {
        try Self.fractions(sparsities ?? Self.defaultSparsities, option: "--sparsities")
    }

    /// `--prune-channels` as numbers.
    func channelFractionList() throws -> [Double] {
        try Self.fractions(channelFractions ?? "none", option: "--prune-channels")
    }

    /// A comma-separated list of fractions in (0, 1), or `none`.
    static func fractions(_ text: String, option: String) throws -> [Double] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.lowercased() == "none" { return [] }
        var values: [Double] = []
        for word in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let word = word.trimmingCharacters(in: .whitespaces)
            guard let value = Double(word), value.isFinite, value > 0, value < 1 else {
                throw ValidationError("\(option) '\(text)': '\(word)' is not a fraction in (0, 1); give a "
                    + "comma-separated list such as 0.5,0.9, or none")
            }
            guard !values.contains(value) else { throw ValidationError("\(option) '\(text)' repeats \(word)") }
            values.append(value)
        }
        return values
    }
}
