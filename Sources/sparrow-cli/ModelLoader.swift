import Foundation
import Sparrow
import SparrowConvert

/// Name, element type and declared shape of a graph input, from a `.sparrow` model or an ONNX graph.
struct InputSignature: Equatable, CustomStringConvertible {
    let name: String
    let dtype: DType
    /// `nil` when an ONNX graph does not declare the rank.
    let shape: [Dim]?

    /// `data (f32, 1x3xHxW)`
    var description: String {
        let dims = shape.map { $0.isEmpty ? "scalar" : $0.map(\.description).joined(separator: "x") } ?? "any shape"
        return "\(name) (\(dtype), \(dims))"
    }

    /// Names of the symbolic dimensions (empty when every dimension is fixed).
    var symbolicDimensions: [String] {
        (shape ?? []).compactMap { if case .symbolic(let name) = $0 { return name } else { return nil } }
    }

    /// Whether a concrete shape fits the declared one: same rank, same fixed dimensions.
    func accepts(_ concrete: [Int]) -> Bool {
        guard let shape else { return true }
        return shape.count == concrete.count
            && zip(shape, concrete).allSatisfy { declared, size in declared.fixedValue.map { $0 == size } ?? true }
    }
}

/// Opens the model named on the command line: a `.sparrow` file is mapped, an `.onnx` file is converted in memory.
enum ModelLoader {
    static func isONNX(_ path: String) -> Bool { path.lowercased().hasSuffix(".onnx") }

    /// Loads a model.
    /// - Parameters:
    ///   - path: A `.sparrow` or `.onnx` file.
    ///   - inputShapes: Given the graph inputs, checks the caller's inputs against them and returns the concrete
    ///     shapes by input name: for ONNX they are fixed at conversion, and the caller plans its session with them.
    /// - Returns: The model and the shapes `inputShapes` returned.
    /// - Throws: `CLIError`, `ConvertError` or `SparrowError`.
    static func load(_ path: String, inputShapes: ([InputSignature]) throws -> [String: [Int]]) throws
        -> (model: Model, inputShapes: [String: [Int]]) {
        guard isONNX(path) else {
            let model = try Model(contentsOf: path)
            let signatures = model.inputs.map { InputSignature(name: $0.name, dtype: $0.dtype, shape: $0.shape) }
            return (model, try inputShapes(signatures))
        }
        var graph = try ONNXImporter.load(contentsOf: path)
        let shapes = try inputShapes(graph.inputs.map { InputSignature(name: $0.name, dtype: $0.dtype, shape: $0.shape) })
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let result = try Converter.convert(
            graph: &graph, sourceName: (path as NSString).lastPathComponent,
            sourceSHA256: try SHA256.hexDigest(ofFileAtPath: path), sourceBytes: size,
            options: ConvertOptions(inputShapes: shapes))
        return (try Model(bytes: result.bytes), shapes)
    }

    /// Matches arrays given in input order to the graph inputs: same count, dtypes, ranks and fixed dimensions.
    /// - Returns: The arrays' shapes by input name.
    /// - Throws: `CLIError` listing what the model expects.
    static func match(_ arrays: [(path: String, array: NpyArray)], to signatures: [InputSignature]) throws
        -> [String: [Int]] {
        let expected = signatures.isEmpty ? "no inputs"
            : "\(signatures.count) input\(signatures.count == 1 ? "" : "s"): "
                + signatures.map(\.description).joined(separator: ", ")
        guard arrays.count == signatures.count else {
            throw CLIError("got \(arrays.count) --input file\(arrays.count == 1 ? "" : "s"), the model takes \(expected)")
        }
        var shapes: [String: [Int]] = [:]
        for (index, (signature, given)) in zip(signatures, arrays).enumerated() {
            guard signature.dtype == given.array.dtype, signature.accepts(given.array.shape) else {
                throw CLIError("input \(index + 1) is \(signature), but \(given.path) holds "
                    + "\(given.array.dtype) \(InputShapes.format(given.array.shape))")
            }
            shapes[signature.name] = given.array.shape
        }
        return shapes
    }

    /// Checks `--input-shape` names and shapes against the graph inputs.
    /// - Throws: `CLIError` naming the unknown input or the mismatch.
    static func check(_ shapes: [String: [Int]], against signatures: [InputSignature]) throws {
        for name in shapes.keys.sorted() {
            guard let signature = signatures.first(where: { $0.name == name }) else {
                throw CLIError("--input-shape names '\(name)', but the inputs are: "
                    + signatures.map(\.description).joined(separator: ", "))
            }
            guard signature.accepts(shapes[name]!) else {
                throw CLIError("--input-shape gives \(InputShapes.format(shapes[name]!)) for \(signature)")
            }
        }
    }
}
