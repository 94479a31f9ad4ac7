import Foundation
import SparrowConvert

/// `sparrow convert --prune-channels / --prune-blocks / --sensitivity / --prune-target-fidelity`: options, the
/// progress bar, the reports printed after the stage lines and the JSON report files.
extension ConvertCommand {
    /// Adds the structured-pruning and fidelity options to `options`.
    /// - Throws: `CLIError` for a value out of range, a report file without its step, or `--calibration`
    ///   without a step that uses it.
    func addStructuredPruning(to options: inout ConvertOptions) throws {
        options.pruneChannels = try pruneChannels.map(StructuredPruneArguments.channelFraction)
        options.pruneBlocks = try pruneBlocks.map(StructuredPruneArguments.blockCount)
        options.sensitivity = sensitivity
        options.pruneTargetFidelity = try pruneTargetFidelity.map(StructuredPruneArguments.targetFidelity)
        if options.pruneTargetFidelity != nil, options.prune != nil || !options.pruneLayers.isEmpty {
            throw CLIError("--prune-target-fidelity chooses every layer's sparsity itself; leave out --prune and "
                + "--prune-layer")
        }
        try StructuredPruneArguments.reportPath(pruneChannelsReport, option: "--prune-channels-report",
                                                requires: "--prune-channels F", given: pruneChannels != nil,
                                                input: input)
        try StructuredPruneArguments.reportPath(pruneBlocksReport, option: "--prune-blocks-report",
                                                requires: "--prune-blocks N", given: pruneBlocks != nil, input: input)
        if let calibration {
            guard options.pruneBlocks != nil || sensitivity || options.pruneTargetFidelity != nil || quantize != nil
            else {
                throw CLIError("--calibration \(calibration) is used by --prune-blocks, --sensitivity, "
                    + "--prune-target-fidelity and --quantize only")
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: calibration, isDirectory: &isDirectory),
                  isDirectory.boolValue else {
                throw CLIError("--calibration \(calibration) is not a directory (of .npy inputs)")
            }
            options.calibrationDirectory = calibration
        }
    }

    /// Converts with a progress bar on standard error while candidate models are evaluated.
    func convertShowingProgress(_ options: ConvertOptions) throws -> ConversionResult {
        let bar = ProgressBar()
        defer { bar.finish() }
        return try Converter.convert(onnxAt: input, options: options, progress: bar.handler)
    }

    /// The reports of the structured-pruning and fidelity steps, each after a blank line.
    static func structuredPruningLines(_ report: ConversionReport) -> [String] {
        var lines: [String] = []
        if let blocks = report.blockPruning {
            lines += [""] + blocks.lines
            if !blocks.candidates.isEmpty { lines += BlockPruningTable.render(blocks) }
        }
        if let channels = report.channelPruning { lines += [""] + channels.lines }
        if let sensitivity = report.sensitivity {
            lines += ["", "sensitivity of \(sensitivity.layers.count) layers to magnitude pruning, each pruned alone "
                + "(\(sensitivity.evaluations) models evaluated)", "  calibration: \(sensitivity.calibration)"]
            lines += SensitivityTable.render(sensitivity)
            if let target = sensitivity.target { lines += [""] + target.lines }
        }
        return lines
    }

    /// Writes `--prune-channels-report` and `--prune-blocks-report`.
    func writeStructuredPruningReports(_ report: ConversionReport) throws {
        if let path = pruneChannelsReport, let channels = report.channelPruning {
            try AtomicFile.write(Array(try channels.json()) + [0x0A], to: path)
            print("wrote \(path)")
        }
        if let path = pruneBlocksReport, let blocks = report.blockPruning {
            try AtomicFile.write(Array(try blocks.json()) + [0x0A], to: path)
            print("wrote \(path)")
        }
    }
}
