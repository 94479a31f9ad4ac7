#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
internal import COpenBLAS

/// Time spent in one node during a profiled run.
public struct OpTiming: Sendable {
    public let node: String
    public let op: OpKind
    public let seconds: Double
}

/// Runs a model. A session plans memory once per distinct set of input shapes (plans are cached), owns its
/// arena and thread pool, and performs no heap allocation in `run(_:into:)`. One session runs one inference at
/// a time; make one session per thread to run a model concurrently.
public final class Session: @unchecked Sendable {
    public let model: Model
    /// Threads used by kernels (the calling thread included).
    public let threads: Int
    private let pool: ThreadPool
    private var plans: [[TensorType]: ExecutionPlan] = [:]
    private var current: ExecutionPlan?
    private let busy = Atomic<Bool>(false)

    /// Creates a session and plans it right away when the input shapes are known (fixed in the model, or
    /// given in `inputShapes` by input name); otherwise the first `run` plans for the shapes it gets.
    /// - Throws: `SparrowError` if the model cannot be planned for these shapes.
    public init(model: Model, threads: Int = 1, inputShapes: [String: [Int]] = [:]) throws {
        self.model = model
        self.threads = max(1, threads)
        pool = ThreadPool(threadCount: self.threads)
        var shapes: [[Int]] = []
        for info in model.inputs {
            if let given = inputShapes[info.name] {
                shapes.append(given)
            } else if let fixed = TensorDecl(name: info.name, dtype: info.dtype, shape: info.shape).fixedShape {
                shapes.append(fixed)
            } else {
                return
            }
        }
        current = try plan(for: zip(model.inputs, shapes).map { TensorType($0.dtype, $1) })
    }

    /// The plan of the last shapes run or prepared.
    var currentPlan: ExecutionPlan? { current }

    /// Bytes of the activation arena of the current plan (intermediates with reuse), without the workspace.
    public var arenaBytes: Int { current?.arenaBytes ?? 0 }
    /// Bytes of the shared kernel workspace of the current plan (im2col buffers and similar).
    public var workspaceBytes: Int { current?.workspaceBytes ?? 0 }
    /// Sum of all intermediate tensor sizes of the current plan: the arena size without buffer reuse.
    public var unsharedActivationBytes: Int { current?.unsharedBytes ?? 0 }
    /// Output shapes of the current plan.
    public var outputShapes: [[Int]] { current?.outputTypes.map(\.shape) ?? [] }
    /// Number of nodes that run per inference (after plan-time folding).
    public var plannedStepCount: Int { current?.steps.count ?? 0 }

    /// Weights of the current plan that run in sparse form (CSR/COO read by the SpMM kernels).
    public var sparseWeightCount: Int { current?.sparseConstants ?? 0 }

    /// Plans (or reuses the plan) for these input types.
    private func plan(for types: [TensorType]) throws -> ExecutionPlan {
        if let cached = plans[types] { return cached }
        let plan = try ExecutionPlan.make(model: model, inputTypes: types, pool: pool)
        plans[types] = plan
        return plan
    }

    private func acquire() throws {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            throw SparrowError.sessionBusy
        }
    }

    private func release() { busy.store(false, ordering: .releasing) }

    private func planFor(_ inputs: [Tensor]) throws -> ExecutionPlan {
        guard inputs.count == model.graph.inputs.count else {
            throw SparrowError.inputMismatch("model has \(model.graph.inputs.count) inputs, got \(inputs.count)")
        }
        if let current, Self.matches(current.inputTypes, inputs) { return current }
        let plan = try plan(for: inputs.map { TensorType($0.dtype, $0.shape) })
        current = plan
        return plan
    }

    /// Runs the model and returns new output tensors.
    /// - Parameter inputs: one tensor per model input, in the model's input order.
    /// - Throws: `SparrowError.inputMismatch` for a wrong count, dtype or shape; planning errors for new shapes.
    public func run(_ inputs: [Tensor]) throws -> [Tensor] {
        try acquire()
        defer { release() }
        let plan = try planFor(inputs)
        var outputs = plan.outputTypes.map { Tensor(zeros: $0.shape, dtype: $0.dtype) }
        execute(plan, inputs, &outputs, timings: nil)
        return outputs
    }

    /// Runs the model into caller-provided output tensors of the right types: no heap allocation once the
    /// session is planned for these shapes.
    /// - Throws: `SparrowError.inputMismatch` if inputs or outputs do not match the model.
    public func run(_ inputs: [Tensor], into outputs: inout [Tensor]) throws {
        try acquire()
        defer { release() }
        let plan = try planFor(inputs)
        guard Self.matches(plan.outputTypes, outputs) else { throw SparrowError.inputMismatch("output tensors do not match \(plan.outputTypes)") }
        execute(plan, inputs, &outputs, timings: nil)
    }

    /// Runs the model with inputs given by name; returns outputs by name.
    public func run(_ inputs: [String: Tensor]) throws -> [String: Tensor] {
        var ordered: [Tensor] = []
        for info in model.inputs {
            guard let tensor = inputs[info.name] else { throw SparrowError.inputMismatch("missing input '\(info.name)'") }
            ordered.append(tensor)
        }
        let outputs = try run(ordered)
        return Dictionary(uniqueKeysWithValues: zip(model.outputs.map(\.name), outputs))
    }

    /// Runs once and reports the time of every node that executes (plan-time folded nodes cost nothing).
    public func profile(_ inputs: [Tensor]) throws -> (outputs: [Tensor], timings: [OpTiming]) {
        try acquire()
        defer { release() }
        let plan = try planFor(inputs)
        var outputs = plan.outputTypes.map { Tensor(zeros: $0.shape, dtype: $0.dtype) }
        var seconds = [Double](repeating: 0, count: plan.steps.count)
        seconds.withUnsafeMutableBufferPointer { execute(plan, inputs, &outputs, timings: $0.baseAddress) }
        let timings = zip(plan.steps, seconds).map { step, time in
            OpTiming(node: model.graph.nodes[step.node].name, op: model.graph.nodes[step.node].op, seconds: time)
        }
        return (outputs, timings)
    }

    /// Index loops rather than `zip`/`allSatisfy`: unspecialised generic code allocates in debug builds, and
    /// `run(_:into:)` must not allocate in any build.
    private static func matches(_ types: [TensorType], _ tensors: [Tensor]) -> Bool {
        guard types.count == tensors.count else { return false }
        for i in 0..<types.count where types[i].dtype != tensors[i].dtype || types[i].shape != tensors[i].shape {
            return false
        }
        return true
    }

    private func execute(_ plan: ExecutionPlan, _ inputs: [Tensor], _ outputs: inout [Tensor],
                         timings: UnsafeMutablePointer<Double>?) {
        BLASThreads.useOne()
        for index in 0..<inputs.count where inputs[index].byteCount > 0 {
            plan.inputSlots[index].copyMemory(from: inputs[index].storage.bytes, byteCount: inputs[index].byteCount)
        }
        let steps = plan.steps
        if let timings {
            for index in 0..<steps.count {
                let start = monotonicSeconds()
                steps[index].kernel()
                timings[index] = monotonicSeconds() - start
            }
        } else {
            for index in 0..<steps.count { steps[index].kernel() }
        }
        for index in outputs.indices {
            let byteCount = plan.outputTypes[index].byteCount
            outputs[index].withUnsafeMutableBytes { destination in
                if byteCount > 0 { destination.baseAddress!.copyMemory(from: plan.outputSources[index], byteCount: byteCount) }
            }
        }
    }
}

/// OpenBLAS runs single-threaded: sessions split GEMMs over their own pool (`ParallelSgemm`), because
/// OpenBLAS's threaded calls allocate and compete with the pool for the same cores.
enum BLASThreads {
    nonisolated(unsafe) private static var isSet = false

    static func useOne() {
        if !isSet {
            openblas_set_num_threads(1)
            isSet = true
        }
    }
}

/// Seconds on a monotonic clock, for profiling and benchmarks.
public func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
}
