import Sparrow
import SparrowConvert

/// Made-up inputs for `sparrow bench` when no `.npy` file is given: float32 N(0, 1) values from a seeded
/// generator, so that two runs with the same seed time the same data on any machine.
enum RandomInputs {
    /// The shape of every input: `--input-shape` where given, else the declared one. A symbolic first dimension
    /// (the batch) becomes 1, which is what a latency benchmark means by default; any other symbolic dimension
    /// (an image size) has no such default and must be given.
    /// - Throws: `CLIError` for an unknown or mismatched `--input-shape`, a non-float input or a missing shape.
    static func shapes(given: [String: [Int]], signatures: [InputSignature]) throws -> [String: [Int]] {
        try ModelLoader.check(given, against: signatures)
        var shapes: [String: [Int]] = [:]
        for signature in signatures {
            guard signature.dtype == .float32 else {
                throw CLIError("input '\(signature.name)' is \(signature.dtype): random inputs are float32 only; "
                    + "give --input FILE.npy for each input")
            }
            if let shape = given[signature.name] {
                shapes[signature.name] = shape
                continue
            }
            guard let declared = signature.shape else {
                throw CLIError("input '\(signature.name)' declares no shape; give --input-shape \(signature.name)=DIMS")
            }
            let unresolved = declared.dropFirst().filter { $0.fixedValue == nil }
            guard unresolved.isEmpty else {
                let example = declared.map { $0.fixedValue.map(String.init) ?? "<\($0)>" }.joined(separator: "x")
                throw CLIError("input \(signature) has symbolic dimensions "
                    + unresolved.map(\.description).joined(separator: ", ")
                    + "; give --input-shape \(signature.name)=\(example)")
            }
            shapes[signature.name] = declared.map { $0.fixedValue ?? 1 }
        }
        return shapes
    }

    /// One tensor per shape, in order, all drawn from one stream seeded with `seed`.
    static func tensors(_ shapes: [[Int]], seed: UInt64) throws -> [Tensor] {
        var generator = SplitMix64(state: seed)
        return try shapes.map { try Tensor(shape: $0, floats: generator.normals($0.reduce(1, *))) }
    }
}
