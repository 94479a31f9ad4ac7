/// Every failure the runtime reports. Cases carry what went wrong and where, so that a message names the
/// section, tensor, node or input at fault.
public enum SparrowError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened, read or mapped.
    case io(path: String, reason: String)
    /// The model file violates `docs/FORMAT.md`.
    case invalidModel(String)
    /// The graph is well-formed but cannot be planned (shape mismatch, bad attribute, unknown op semantics).
    case invalidGraph(node: String, reason: String)
    /// A feature the runtime does not implement yet.
    case unsupported(node: String, reason: String)
    /// `run` got inputs that do not match the model.
    case inputMismatch(String)
    /// A session cannot run twice at once; use one session per thread.
    case sessionBusy

    public var description: String {
        switch self {
        case .io(let path, let reason): return "I/O error on \(path): \(reason)"
        case .invalidModel(let reason): return "invalid model file: \(reason)"
        case .invalidGraph(let node, let reason): return "invalid graph at node '\(node)': \(reason)"
        case .unsupported(let node, let reason): return "unsupported at node '\(node)': \(reason)"
        case .inputMismatch(let reason): return "input mismatch: \(reason)"
        case .sessionBusy: return "session is already running on another thread"
        }
    }
}
