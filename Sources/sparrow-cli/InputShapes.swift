/// `--input-shape NAME=1x3x224x224`: fixes the dimensions of one graph input.
enum InputShapes {
    /// Parses one `NAME=DIMS` argument. Dimensions are separated by `x` (or `,`); the name is everything before
    /// the last `=`, so names containing `=` still work.
    /// - Throws: `CLIError` naming the argument and what is wrong with it.
    static func parse(_ argument: String) throws -> (name: String, shape: [Int]) {
        guard let separator = argument.lastIndex(of: "=") else {
            throw CLIError("--input-shape '\(argument)' is not NAME=DIMS (e.g. input=1x3x224x224)")
        }
        let name = String(argument[..<separator])
        let dims = argument[argument.index(after: separator)...]
        guard !name.isEmpty else { throw CLIError("--input-shape '\(argument)' has no input name before '='") }
        guard !dims.isEmpty else { throw CLIError("--input-shape '\(argument)' has no dimensions after '='") }
        var shape: [Int] = []
        for part in dims.split(separator: "x", omittingEmptySubsequences: false)
            .flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
            guard let size = Int(part.trimmingSpaces), size >= 0 else {
                throw CLIError("--input-shape '\(argument)': '\(part)' is not a dimension (a non-negative integer)")
            }
            shape.append(size)
        }
        return (name, shape)
    }

    /// Parses every `--input-shape` argument into shapes by input name.
    /// - Throws: `CLIError` for a malformed argument or an input named twice.
    static func parseAll(_ arguments: [String]) throws -> [String: [Int]] {
        var shapes: [String: [Int]] = [:]
        for argument in arguments {
            let (name, shape) = try parse(argument)
            guard shapes[name] == nil else { throw CLIError("--input-shape names input '\(name)' twice") }
            shapes[name] = shape
        }
        return shapes
    }

    /// `1x3x224x224`; `scalar` for rank 0.
    static func format(_ shape: [Int]) -> String {
        shape.isEmpty ? "scalar" : shape.map(String.init).joined(separator: "x")
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}
