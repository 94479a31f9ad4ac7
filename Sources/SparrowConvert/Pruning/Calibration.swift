import Foundation
import Sparrow

/// The inputs on which pruning decisions that need data (`--prune-blocks`, `--sensitivity`,
/// `--prune-target-fidelity`) compare a pruned model with the unpruned one.
public struct Calibration: Sendable {
    /// One entry per sample: a tensor per graph input, in the graph's input order.
    public let samples: [[Tensor]]
    /// Where the samples came from, for reports: the directory and file count, or the random recipe.
    public let source: String
    /// Whether the samples are made-up noise rather than the user's data.
    public let isRandom: Bool
    /// Class labels from the directory's `labels.npy`: one per row of the first output, over all samples in
    /// order (`sparrow bench --sweep` reports top-1 accuracy with them); `nil` when there is no such file.
    public let labels: [Int64]?

    /// The file of a calibration directory that holds labels rather than a sample.
    public static let labelsFileName = "labels.npy"

    /// Samples drawn when no directory is given.
    public static let randomCount = 8
    /// Seed of the made-up samples, so that two conversions of one model decide the same.
    public static let randomSeed: UInt64 = 0x5EED

    /// Every `.npy` file of `directory` (sorted by name; each file one sample of a one-input model) but
    /// `labels.npy`, which holds integer labels, or, without a directory, `randomCount` seeded N(0, 1) samples of
    /// each float32 input's shape (symbolic dimensions at 1).
    /// - Parameter graph: The graph with `--input-shape` applied.
    /// - Throws: `ConvertError.invalidArgument` when the directory has no sample file, a file does not fit the
    ///   input, the labels are not integers, or the model's inputs cannot be made up (a non-float input, an
    ///   unknown rank); `ConvertError.io` when the directory cannot be read.
    public static func load(directory: String?, graph: IRGraph) throws -> Calibration {
        let inputs = graph.inputs.filter { graph.initializers[$0.name] == nil }
        guard let directory else { return try random(inputs) }
        guard inputs.count == 1 else {
            throw ConvertError.invalidArgument("--calibration feeds one input per file, but the model has "
                + "\(inputs.count) inputs")
        }
        let input = inputs[0]
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { $0.lowercased().hasSuffix(".npy") && $0.lowercased() != labelsFileName }.sorted()
        } catch {
            throw ConvertError.io("cannot read the calibration directory \(directory)")
        }
        let labels = try loadLabels(directory: directory)
        guard !names.isEmpty else {
            throw ConvertError.invalidArgument("--calibration \(directory) holds no .npy file")
        }
        var samples: [[Tensor]] = []
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            let array = try NpyArray(contentsOf: path)
            guard array.dtype == input.dtype, fits(array.shape, input.shape) else {
                throw ConvertError.invalidArgument("calibration file \(name) holds \(array.dtype) \(array.shape), "
                    + "but input '\(input.name)' is \(input.dtype) \(describe(input.shape))")
            }
            samples.append([try array.tensor()])
        }
        let base = (directory as NSString).lastPathComponent
        let files = "\(samples.count) file\(samples.count == 1 ? "" : "s") from \(base)/"
        let labelNote = labels.map { " with \($0.count) labels" } ?? ""
        return Calibration(samples: samples, source: files + labelNote, isRandom: false, labels: labels)
    }

    private static func loadLabels(directory: String) throws -> [Int64]? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        guard let name = names.first(where: { $0.lowercased() == labelsFileName }) else { return nil }
        let array = try NpyArray(contentsOf: (directory as NSString).appendingPathComponent(name))
        guard array.dtype.isInteger else {
            throw ConvertError.invalidArgument("calibration labels \(name) hold \(array.dtype); labels are integer "
                + "class indices, one per row of the first output")
        }
        return try array.tensor().int64s
    }

    private static func random(_ inputs: [IRValueInfo]) throws -> Calibration {
        var generator = SplitMix64(state: randomSeed)
        var shapes: [[Int]] = []
        for input in inputs {
            guard input.dtype == .float32 else {
                throw ConvertError.invalidArgument("input '\(input.name)' is \(input.dtype): random calibration "
                    + "inputs are float32 only; give --calibration DIR")
            }
            guard let declared = input.shape else {
                throw ConvertError.invalidArgument("input '\(input.name)' has no declared shape; give --input-shape "
                    + "or --calibration DIR")
            }
            shapes.append(declared.map { $0.fixedValue ?? 1 })
        }
        let samples = try (0..<randomCount).map { _ in
            try shapes.map { shape in try Tensor(shape: shape, floats: generator.normals(shape.reduce(1, *))) }
        }
        let shown = shapes.map { $0.map(String.init).joined(separator: "x") }.joined(separator: ", ")
        return Calibration(samples: samples, source: "\(randomCount) seeded random N(0,1) inputs of \(shown) "
            + "(no --calibration)", isRandom: true, labels: nil)
    }

    private static func fits(_ shape: [Int], _ declared: [Dim]?) -> Bool {
        guard let declared else { return true }
        return declared.count == shape.count
            && zip(declared, shape).allSatisfy { dim, size in dim.fixedValue.map { $0 == size } ?? true }
    }

    private static func describe(_ shape: [Dim]?) -> String {
        shape.map { $0.map(\.description).joined(separator: "x") } ?? "of any shape"
    }
}
