/// One rewrite of the converter graph. Passes keep ONNX semantics: after any of them the graph computes the same
/// outputs for the same inputs (up to float rounding where a pass folds arithmetic).
public protocol GraphPass {
    /// Short name for logs and reports.
    var name: String { get }
    /// Rewrites `graph` in place.
    /// - Throws: `ConvertError` when the graph holds something the pass cannot express.
    func run(_ graph: inout IRGraph) throws
}
