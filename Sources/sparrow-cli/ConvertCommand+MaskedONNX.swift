import SparrowConvert

/// `sparrow convert --export-masked-onnx PATH`: the source model with the pruned weights zeroed, built before
/// anything is written so that a model the export cannot express leaves no files behind.
extension ConvertCommand {
    /// Rejects an export path that would overwrite the input or the converted model.
    func checkMaskedONNXPath(destination: String) throws {
        guard let path = exportMaskedONNX else { return }
        guard path != input, path != destination else {
            throw CLIError("--export-masked-onnx \(path) is the \(path == input ? "input" : "output") itself")
        }
    }

    /// The masked model, or `nil` without `--export-masked-onnx`.
    func maskedONNX(_ result: ConversionResult) throws -> MaskedONNXExport.Result? {
        guard exportMaskedONNX != nil else { return nil }
        return try MaskedONNXExport.masked(onnxAt: input, masks: result.pruningMasks)
    }

    func writeMaskedONNX(_ masked: MaskedONNXExport.Result?) throws {
        guard let path = exportMaskedONNX, let masked else { return }
        try AtomicFile.write(masked.bytes, to: path)
        print("wrote masked ONNX \(path) (\(masked.initializerCount) weights, "
            + "\(Formatting.grouped(masked.zeroedCount)) elements zeroed; \(Formatting.bytes(masked.bytes.count)))")
    }
}
