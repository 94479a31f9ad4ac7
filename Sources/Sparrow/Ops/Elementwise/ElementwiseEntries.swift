extension OperatorRegistry {
    /// Elementwise ops and the types that implement them.
    static var elementwiseEntries: [(OpKind, any Operator.Type)] {
        [
            (.add, AddOperator.self),
            (.sub, SubOperator.self),
            (.mul, MulOperator.self),
            (.div, DivOperator.self),
            (.min, MinOperator.self),
            (.max, MaxOperator.self),
            (.pow, PowOperator.self),
            (.equal, EqualOperator.self),
            (.where, WhereOperator.self),
            (.sqrt, SqrtOperator.self),
            (.exp, ExpOperator.self),
            (.log, LogOperator.self),
            (.neg, NegOperator.self),
            (.reciprocal, ReciprocalOperator.self),
            (.floor, FloorOperator.self),
            (.ceil, CeilOperator.self),
            (.abs, AbsOperator.self),
            (.erf, ErfOperator.self),
        ]
    }
}
