/// Progress of a pruning step that evaluates many candidate models (`--prune-blocks`, `--sensitivity`,
/// `--prune-target-fidelity`), for a progress bar.
public struct PruningProgress: Sendable, Equatable {
    /// The step: `prune-blocks`, `sensitivity` or `target-fidelity`.
    public let task: String
    /// Candidates evaluated so far in this step.
    public let completed: Int
    /// Candidates this step will evaluate (an upper bound for the bisection of `target-fidelity`).
    public let total: Int
    /// The candidate just evaluated, e.g. a node name and a sparsity.
    public let item: String

    public init(task: String, completed: Int, total: Int, item: String) {
        self.task = task
        self.completed = completed
        self.total = total
        self.item = item
    }
}

/// Receives `PruningProgress` on the converting thread, after every evaluated candidate.
public typealias PruningProgressHandler = @Sendable (PruningProgress) -> Void
