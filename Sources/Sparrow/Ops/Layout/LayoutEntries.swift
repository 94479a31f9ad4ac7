extension OperatorRegistry {
    /// Layout ops and the types that implement them.
    static var layoutEntries: [(OpKind, any Operator.Type)] {
        [
            (.concat, ConcatOperator.self),
            (.split, SplitOperator.self),
            (.slice, SliceOperator.self),
            (.reshape, ReshapeOperator.self),
            (.flatten, FlattenOperator.self),
            (.squeeze, SqueezeOperator.self),
            (.unsqueeze, UnsqueezeOperator.self),
            (.transpose, TransposeOperator.self),
            (.pad, PadOperator.self),
            (.resize, ResizeOperator.self),
            (.expand, ExpandOperator.self),
            (.gather, GatherOperator.self),
            (.channelShuffle, ChannelShuffleOperator.self),
            (.identity, IdentityOperator.self),
        ]
    }
}
