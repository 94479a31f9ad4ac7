extension OperatorRegistry {
    /// Activation ops and the types that implement them.
    static var activationEntries: [(OpKind, any Operator.Type)] {
        [
            (.relu, ReluOperator.self),
            (.clip, ClipOperator.self),
            (.leakyRelu, LeakyReluOperator.self),
            (.pRelu, PReluOperator.self),
            (.sigmoid, SigmoidOperator.self),
            (.hardSigmoid, HardSigmoidOperator.self),
            (.hardSwish, HardSwishOperator.self),
            (.silu, SiLUOperator.self),
            (.tanh, TanhOperator.self),
            (.gelu, GeluOperator.self),
        ]
    }
}
