extension OperatorRegistry {
    /// Quantization ops and the types that implement them.
    static var quantizationEntries: [(OpKind, any Operator.Type)] {
        [(.quantizeDequantize, QuantizeDequantizeOperator.self)]
    }
}
