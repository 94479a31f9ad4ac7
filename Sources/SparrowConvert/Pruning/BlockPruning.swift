import Sparrow

/// Layer pruning: removes whole residual blocks whose loss costs the model's output least.
///
/// **Blocks.** A residual block with an identity shortcut is an `Add(B, X)` (either order) where the branch value
/// `B` is computed from `X` and constants alone, through at least one Conv, and `X` reaches the Add directly:
/// ResNet basic and bottleneck blocks without downsampling, MobileNetV2 inverted residuals with stride 1 and equal
/// channels. A shortcut through a Conv (a downsampling block) is not identity, so that block is not a candidate;
/// nor is an Add of two values that do not nest that way. The branch's values must be read inside the branch
/// alone (and `B` by the Add alone), and `X`, `B` and the sum must have the same shape, so that `X + 0 = X`.
///
/// **Removal.** The Add's output is replaced by `X`, which is what the block computes when its branch outputs
/// zeros; the branch becomes dead and is eliminated.
///
/// **Choice.** Greedy: every candidate is scored by the output fidelity of the model with that block removed
/// (`FidelityEvaluator`), the best (highest cosine, then top-1 agreement, then more MACs removed) is removed,
/// and the remaining candidates are scored again on top of it, until `count` blocks are gone.
public enum BlockPruning {
    /// One residual block with an identity shortcut.
    struct Block: Equatable {
        /// Name of the Add that closes the block.
        var add: String
        /// The shortcut value `X`, where the branch starts.
        var input: String
        /// The branch's output, the Add's other operand.
        var branchOutput: String
        /// Names of the branch's nodes, in graph order.
        var nodes: [String]
        /// Multiply–accumulates of the branch at batch 1 (`ChannelPruning.macs`).
        var macs: Int
    }

    /// Every residual block of `graph` with an identity shortcut, in graph order.
    /// - Parameter shapes: Shapes of `graph`'s values; without them (or with a shape unknown) no Add qualifies.
    static func blocks(in graph: IRGraph, shapes: ChannelPruning.Shapes) -> [Block] {
        let uses = IRUseIndex(graph)
        let macs = ChannelPruning.macsByNode(graph, shapes: shapes)
        var result: [Block] = []
        for add in graph.nodes where add.opType == "Add" && add.domain.isEmpty && add.inputs.count == 2
            && add.outputs.count == 1 {
            let (a, b) = (add.inputs[0], add.inputs[1])
            guard !a.isEmpty, !b.isEmpty, a != b, graph.initializers[a] == nil, graph.initializers[b] == nil,
                  let sum = shapes.concrete[add.outputs[0]]
            else { continue }
            for (branch, shortcut) in [(a, b), (b, a)] {
                guard shapes.concrete[shortcut] == sum, shapes.concrete[branch] == sum,
                      let nodes = branchNodes(from: branch, to: shortcut, closedBy: add, in: graph, uses: uses)
                else { continue }
                let names = nodes.map { graph.nodes[$0].name }
                result.append(Block(add: add.name, input: shortcut, branchOutput: branch, nodes: names,
                                    macs: names.reduce(0) { $0 + (macs[$1] ?? 0) }))
                break
            }
        }
        return result
    }

    /// The indices of the nodes that compute `branch` from `shortcut` and constants, ascending, or `nil` when
    /// `branch` needs anything else, has no Conv, or one of its values is read outside the block.
    private static func branchNodes(from branch: String, to shortcut: String, closedBy add: IRNode, in graph: IRGraph,
                                    uses: IRUseIndex) -> [Int]? {
        var members = Set<Int>()
        var pending = [branch]
        var readsShortcut = false
        while let value = pending.popLast() {
            if value == shortcut {
                readsShortcut = true
                continue
            }
            if graph.initializers[value] != nil { continue }
            // A graph input other than the shortcut: the branch is not computed from X alone.
            guard let producer = uses.producer[value] else { return nil }
            guard members.insert(producer).inserted else { continue }
            pending += graph.nodes[producer].inputs.filter { !$0.isEmpty }
        }
        guard readsShortcut, members.contains(where: { graph.nodes[$0].opType == "Conv" }) else { return nil }
        for index in members {
            for output in graph.nodes[index].outputs where !output.isEmpty {
                guard !uses.graphOutputs.contains(output) else { return nil }
                for reader in uses.consumers(of: output) where !members.contains(reader) {
                    guard output == branch, graph.nodes[reader].name == add.name else { return nil }
                }
            }
        }
        guard uses.consumers(of: branch).count == 1 else { return nil }
        return members.sorted()
    }

    /// Removes the blocks closed by the Adds named `adds` (as found by `blocks(in:shapes:)`): each Add becomes
    /// an Identity of its shortcut, which the identity pass folds away, and dead nodes and constants go.
    /// - Throws: `ConvertError.invalidArgument` when a name is not an Add of `graph`.
    static func remove(_ blocks: [Block], from graph: inout IRGraph) throws {
        for block in blocks {
            guard let index = graph.nodes.firstIndex(where: { $0.name == block.add && $0.opType == "Add" }) else {
                throw ConvertError.invalidArgument("the graph has no Add '\(block.add)' closing a residual block")
            }
            graph.nodes[index].opType = "Identity"
            graph.nodes[index].inputs = [block.input]
            graph.nodes[index].attributes = [:]
        }
        try RemoveIdentityPass().run(&graph)
        try DeadNodeEliminationPass().run(&graph)
        try PruneUnusedInitializersPass().run(&graph)
    }

    /// Removes the `count` residual blocks whose removal costs the output least, chosen greedily on `calibration`.
    /// - Parameters:
    ///   - graph: A graph after `PassPipeline.standard`; rewritten in place.
    ///   - count: Blocks to remove, at least 1; fewer when the graph has fewer candidates (the report says so).
    ///   - inputShapes: Sizes of symbolic input dimensions (as `--input-shape`), for shapes and MACs.
    ///   - progress: Called after every evaluated candidate.
    /// - Returns: Every candidate's score alone, each round's choice, and the fidelity and MACs at the end.
    /// - Throws: `ConvertError.invalidArgument` for `count < 1`; what lowering, planning or running a candidate
    ///   throws.
    public static func apply(to graph: inout IRGraph, count: Int, calibration: Calibration,
                             inputShapes: [String: [Int]] = [:], threads: Int = 2,
                             progress: PruningProgressHandler? = nil) throws -> BlockPruningReport {
        guard count >= 1 else {
            throw ConvertError.invalidArgument("--prune-blocks must be at least 1, got \(count)")
        }
        var report = BlockPruningReport(requested: count, calibration: calibration.source)
        let shapes: ChannelPruning.Shapes
        do {
            shapes = try ChannelPruning.inferShapes(graph, inputShapes: inputShapes)
        } catch {
            report.note = "shapes could not be inferred, nothing pruned: \(error)"
            return report
        }
        report.macsBefore = ChannelPruning.macsByNode(graph, shapes: shapes).values.reduce(0, +)
        report.macsAfter = report.macsBefore
        var candidates = blocks(in: graph, shapes: shapes)
        guard !candidates.isEmpty else {
            report.note = "no residual block with an identity shortcut"
            return report
        }
        if candidates.count < count {
            report.note = "only \(candidates.count) residual blocks with an identity shortcut: removing all of them"
        }
        var evaluator = try FidelityEvaluator(reference: graph, calibration: calibration, threads: threads)
        let rounds = min(count, candidates.count)
        // Round r scores the candidates that are left: n + (n − 1) + … evaluations in all.
        let total = (0..<rounds).reduce(0) { $0 + candidates.count - $1 }
        var removed: [Block] = []
        for round in 1...rounds {
            var best: (block: Block, fidelity: Fidelity)?
            for block in candidates {
                var trial = graph
                try remove(removed + [block], from: &trial)
                let fidelity = try evaluator.measure(trial)
                progress?(PruningProgress(task: "prune-blocks", completed: evaluator.evaluations, total: total,
                                          item: block.add))
                if round == 1 {
                    report.candidates.append(.init(block: block.add, input: block.input, nodes: block.nodes.count,
                                                   macsRemoved: block.macs, cosine: fidelity.cosine,
                                                   top1Agreement: fidelity.top1Agreement))
                }
                if best == nil || isBetter((block, fidelity), than: best!) { best = (block, fidelity) }
            }
            let (chosen, fidelity) = best!
            removed.append(chosen)
            // A block nested in the chosen one's branch is gone with it.
            candidates.removeAll { $0.add == chosen.add || chosen.nodes.contains($0.add) }
            report.rounds.append(.init(round: round, block: chosen.add, cosine: fidelity.cosine,
                                       top1Agreement: fidelity.top1Agreement,
                                       macsRemoved: removed.reduce(0) { $0 + $1.macs }))
            report.fidelity = fidelity
        }
        report.evaluations = evaluator.evaluations
        try remove(removed, from: &graph)
        let after = try ChannelPruning.inferShapes(graph, inputShapes: inputShapes)
        report.macsAfter = ChannelPruning.macsByNode(graph, shapes: after).values.reduce(0, +)
        return report
    }

    private static func isBetter(_ a: (block: Block, fidelity: Fidelity), than b: (block: Block, fidelity: Fidelity))
        -> Bool {
        if a.fidelity.cosine != b.fidelity.cosine { return a.fidelity.cosine > b.fidelity.cosine }
        if a.fidelity.top1Agreement != b.fidelity.top1Agreement {
            return a.fidelity.top1Agreement > b.fidelity.top1Agreement
        }
        return a.block.macs > b.block.macs
    }
}
