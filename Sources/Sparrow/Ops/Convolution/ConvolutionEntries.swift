extension OperatorRegistry {
    /// Convolution ops and the types that implement them.
    static var convolutionEntries: [(OpKind, any Operator.Type)] {
        [(.conv, ConvOperator.self), (.convTranspose, ConvTransposeOperator.self)]
    }
}
