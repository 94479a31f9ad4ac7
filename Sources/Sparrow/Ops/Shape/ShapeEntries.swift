extension OperatorRegistry {
    /// Shape ops and the types that implement them.
    static var shapeEntries: [(OpKind, any Operator.Type)] {
        [
            (.shape, ShapeOperator.self),
            (.range, RangeOperator.self),
            (.constantOfShape, ConstantOfShapeOperator.self),
            (.cast, CastOperator.self),
        ]
    }
}
