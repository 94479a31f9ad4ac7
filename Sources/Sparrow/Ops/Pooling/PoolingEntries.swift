extension OperatorRegistry {
    /// Pooling ops and the types that implement them.
    static var poolingEntries: [(OpKind, any Operator.Type)] {
        [
            (.maxPool, MaxPoolOperator.self),
            (.averagePool, AveragePoolOperator.self),
            (.globalAveragePool, GlobalAveragePoolOperator.self),
            (.globalMaxPool, GlobalMaxPoolOperator.self),
        ]
    }
}
