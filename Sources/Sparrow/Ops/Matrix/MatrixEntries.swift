extension OperatorRegistry {
    /// Matrix ops and the types that implement them.
    static var matrixEntries: [(OpKind, any Operator.Type)] {
        [(.gemm, GemmOperator.self), (.matMul, MatMulOperator.self)]
    }
}
