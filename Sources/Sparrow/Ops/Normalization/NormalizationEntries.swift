extension OperatorRegistry {
    /// Normalization ops and the types that implement them.
    static var normalizationEntries: [(OpKind, any Operator.Type)] {
        [
            (.batchNormalization, BatchNormalizationOperator.self),
            (.softmax, SoftmaxOperator.self),
            (.logSoftmax, LogSoftmaxOperator.self),
            (.reduceMean, ReduceMeanOperator.self),
            (.reduceMax, ReduceMaxOperator.self),
            (.reduceSum, ReduceSumOperator.self),
        ]
    }
}
