/// Cross-reference checks of a decoded graph: every use has a definition before it, nothing is defined twice.
enum GraphValidator {
    static func validate(_ graph: GraphDescription) throws {
        var names = Set<String>()
        for tensor in graph.tensors {
            guard !tensor.name.isEmpty else { throw SparrowError.invalidModel("a tensor has an empty name") }
            guard names.insert(tensor.name).inserted else {
                throw SparrowError.invalidModel("tensor name '\(tensor.name)' is used twice")
            }
            if tensor.storage != nil, tensor.fixedShape == nil {
                throw SparrowError.invalidModel("constant '\(tensor.name)' has a symbolic dimension")
            }
        }
        var defined = [Bool](repeating: false, count: graph.tensors.count)
        for (index, tensor) in graph.tensors.enumerated() where tensor.storage != nil {
            defined[index] = true
        }
        for input in graph.inputs {
            guard graph.tensors[input].storage == nil else {
                throw SparrowError.invalidModel("graph input '\(graph.tensors[input].name)' is a constant")
            }
            guard !defined[input] else {
                throw SparrowError.invalidModel("graph input '\(graph.tensors[input].name)' is listed twice")
            }
            defined[input] = true
        }
        for node in graph.nodes {
            for input in node.inputs {
                guard let input else { continue }
                guard defined[input] else {
                    throw SparrowError.invalidModel(
                        "node '\(node.name)' reads '\(graph.tensors[input].name)' before anything defines it")
                }
            }
            for output in node.outputs {
                guard !defined[output] else {
                    throw SparrowError.invalidModel(
                        "node '\(node.name)' writes '\(graph.tensors[output].name)', which is already defined")
                }
                defined[output] = true
            }
        }
        guard !graph.outputs.isEmpty else { throw SparrowError.invalidModel("graph has no outputs") }
        for output in graph.outputs where !defined[output] {
            throw SparrowError.invalidModel("graph output '\(graph.tensors[output].name)' is never computed")
        }
    }
}
