import Sparrow

/// How closely a pruned model's outputs follow the unpruned model's on the calibration samples.
public struct Fidelity: Sendable, Equatable, Encodable {
    /// Mean over samples of the cosine similarity between the flattened outputs (all outputs of a sample,
    /// concatenated) of the two models: 1 when they point the same way.
    public var cosine: Double
    /// Fraction of rows whose argmax over the last axis of the first output agrees (top-1 agreement).
    public var top1Agreement: Double

    public init(cosine: Double, top1Agreement: Double) {
        self.cosine = cosine
        self.top1Agreement = top1Agreement
    }

    /// The unpruned model compared with itself.
    public static let exact = Fidelity(cosine: 1, top1Agreement: 1)
}

/// Runs candidate graphs with the Sparrow runtime on calibration samples and compares their outputs with those
/// of a reference graph.
struct FidelityEvaluator {
    /// What one sample's outputs come to for the comparison.
    struct Sample: Sendable {
        /// Every output, flattened and concatenated.
        var values: [Float]
        /// Argmax of every row of the first output (its last axis).
        var classes: [Int]
    }

    let calibration: Calibration
    /// Kernel threads per evaluation: each candidate is planned once and runs every sample on one session.
    let threads: Int
    private(set) var reference: [Sample] = []
    /// Candidates evaluated so far (the reference not counted).
    private(set) var evaluations = 0

    /// - Throws: What lowering, planning or running the reference graph throws.
    init(reference graph: IRGraph, calibration: Calibration, threads: Int = 2) throws {
        self.calibration = calibration
        self.threads = threads
        reference = try outputs(of: graph)
    }

    /// Fidelity of `graph` against the reference.
    /// - Throws: What lowering, planning or running `graph` throws.
    mutating func measure(_ graph: IRGraph) throws -> Fidelity {
        evaluations += 1
        return Self.compare(try outputs(of: graph), reference)
    }

    /// `graph`'s outputs on every calibration sample.
    func outputs(of graph: IRGraph) throws -> [Sample] {
        let (description, blobs) = try GraphLowering.lower(graph)
        let model = try Model(bytes: ModelFileWriter.encode(graph: description, blobs: blobs, metadata: []))
        return try CalibrationOutputs(model: model, calibration: calibration, threads: threads).samples
    }

    /// Mean cosine and pooled top-1 agreement of `samples` against `reference`.
    static func compare(_ samples: [Sample], _ reference: [Sample]) -> Fidelity {
        var cosineSum = 0.0, agreed = 0, rows = 0
        for (sample, expected) in zip(samples, reference) {
            // Identical outputs are exactly 1: √(Σx²)·√(Σx²) can miss Σx² by an ulp.
            cosineSum += sample.values == expected.values ? 1 : cosine(sample.values, expected.values)
            rows += expected.classes.count
            agreed += zip(sample.classes, expected.classes).filter { $0 == $1 }.count
        }
        return Fidelity(cosine: reference.isEmpty ? 1 : cosineSum / Double(reference.count),
                        top1Agreement: rows == 0 ? 1 : Double(agreed) / Double(rows))
    }

    /// Cosine similarity in Double; two zero vectors are the same direction, one zero vector is orthogonal to
    /// anything, and a NaN anywhere makes it 0 (a broken model is as far off as it gets).
    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        guard a.count == b.count else { return 0 }
        var dot = 0.0, normA = 0.0, normB = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            normA += Double(x) * Double(x)
            normB += Double(y) * Double(y)
        }
        if normA == 0, normB == 0 { return 1 }
        let value = dot / (normA.squareRoot() * normB.squareRoot())
        return value.isFinite ? min(max(value, -1), 1) : 0
    }
}

/// A converted model's outputs on every calibration sample, reduced to what `Fidelity` and top-1 accuracy
/// compare: for measuring variants of one model against each other (`sparrow bench --sweep`).
public struct CalibrationOutputs: Sendable {
    /// One entry per calibration sample.
    let samples: [FidelityEvaluator.Sample]

    /// Runs `model` on every sample of `calibration`, on one session.
    /// - Throws: `SparrowError` when the model cannot be planned for or run on the samples.
    public init(model: Model, calibration: Calibration, threads: Int = 1) throws {
        let session = try Session(model: model, threads: threads)
        samples = try calibration.samples.map { inputs in
            let outputs = try session.run(inputs)
            var classes: [Int] = []
            if let first = outputs.first {
                let values = first.floats
                let width = max(first.shape.last ?? values.count, 1)
                var start = 0
                while start + width <= values.count, !values.isEmpty {
                    var best = start
                    for index in start..<start + width where values[index] > values[best] { best = index }
                    classes.append(best - start)
                    start += width
                }
            }
            return FidelityEvaluator.Sample(values: outputs.flatMap(\.floats), classes: classes)
        }
    }

    /// Cosine similarity and top-1 agreement of these outputs against `reference`'s (`Fidelity`).
    public func fidelity(against reference: CalibrationOutputs) -> Fidelity {
        FidelityEvaluator.compare(samples, reference.samples)
    }

    /// How many rows' argmax (over the last axis of the first output) equals their label, of how many rows.
    /// - Parameter labels: One class index per row, over all samples in order.
    /// - Throws: `ConvertError.invalidArgument` when there are not as many labels as rows.
    public func top1Correct(labels: [Int64]) throws -> (correct: Int, total: Int) {
        let classes = samples.flatMap(\.classes)
        guard classes.count == labels.count else {
            throw ConvertError.invalidArgument("\(labels.count) calibration labels for \(classes.count) output rows "
                + "(one label per row of the first output, over all samples)")
        }
        return (zip(classes, labels).count { Int64($0) == $1 }, classes.count)
    }
}
