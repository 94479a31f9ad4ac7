/// An ordered list of graph rewrites.
public struct PassPipeline {
    /// One step of a pipeline: a named closure, so that passes with other signatures (constant folding returns a
    /// result) can be inserted without conforming to `GraphPass`.
    public struct Stage {
        public let name: String
        public let body: (inout IRGraph) throws -> Void

        /// A stage running `body`.
        public init(name: String, body: @escaping (inout IRGraph) throws -> Void) {
            self.name = name
            self.body = body
        }

        /// A stage running `pass`.
        public init(_ pass: some GraphPass) {
            self.init(name: pass.name) { try pass.run(&$0) }
        }
    }

    public var stages: [Stage]

    /// A pipeline of `stages`, run in order.
    public init(_ stages: [Stage]) {
        self.stages = stages
    }

    /// Names of the stages, in order.
    public var stageNames: [String] { stages.map(\.name) }

    /// The converter's standard order:
    /// canonicalize → import QDQ → remove identity → eliminate dead nodes → [constant folding] → fold BatchNormalization →
    /// channel shuffle → fuse activations → eliminate dead nodes → prune initializers → supported-ops check.
    ///
    /// Canonicalization comes first because every later pass matches opset-21 forms only; BatchNormalization is
    /// folded before activations are fused, since Conv→BN→Relu only becomes Conv→Relu once BN is gone; dead
    /// nodes are removed before the supported-ops check so that unused unsupported nodes do not fail a conversion.
    /// - Parameter constantFolding: Stage run after identity removal (the constant-folding pass lives elsewhere).
    public static func standard(constantFolding: Stage? = nil) -> PassPipeline {
        var stages: [Stage] = [
            Stage(CanonicalizePass()),
            Stage(QDQPass()),
            Stage(RemoveIdentityPass()),
            Stage(DeadNodeEliminationPass()),
        ]
        if let constantFolding { stages.append(constantFolding) }
        stages += [
            Stage(FoldBatchNormPass()),
            Stage(ChannelShufflePass()),
            Stage(FuseActivationPass()),
            Stage(DeadNodeEliminationPass()),
            Stage(PruneUnusedInitializersPass()),
            Stage(SupportedOps()),
        ]
        return PassPipeline(stages)
    }

    /// The standard pipeline without constant folding.
    public static var standard: PassPipeline { standard(constantFolding: nil) }

    /// Runs every stage in order.
    /// - Parameter afterStage: Called after each stage with its name and the graph (for logging or dumps).
    /// - Throws: The first error a stage throws.
    public func run(_ graph: inout IRGraph, afterStage: ((String, IRGraph) -> Void)? = nil) throws {
        for stage in stages {
            try stage.body(&graph)
            afterStage?(stage.name, graph)
        }
    }
}
