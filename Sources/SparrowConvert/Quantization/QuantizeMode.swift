/// What `--quantize` asks for.
public enum QuantizeMode: String, Sendable, CaseIterable {
    /// Weights of Conv, Gemm and MatMul as int8 with one symmetric scale per output channel (per row for sparse
    /// weights); activations and arithmetic stay f32. No calibration data needed.
    case int8Weights = "int8-weights"
}
