/// Structural checks of an imported graph: single assignment, no dangling names, topological order.
enum ONNXTopology {
    /// Checks that every value is defined once and before use, and sorts the nodes topologically if the file did
    /// not (ONNX requires sorted nodes, but some hand-edited models are not; sorting is cheaper than rejecting).
    /// - Throws: `ConvertError.invalidONNX` for a value defined twice, a use of an undefined value, or a cycle.
    static func validateAndSort(_ graph: inout IRGraph) throws {
        var defined = Set(graph.initializers.keys)
        for input in graph.inputs {
            guard defined.insert(input.name).inserted else {
                throw ConvertError.invalidONNX("value '\(input.name)' is both a graph input and a constant")
            }
        }
        let sources = defined
        var producer: [String: Int] = [:]
        for (index, node) in graph.nodes.enumerated() {
            for output in node.outputs where !output.isEmpty {
                guard !sources.contains(output), producer[output] == nil else {
                    throw ConvertError.invalidONNX("value '\(output)' is defined more than once (node '\(node.name)')")
                }
                producer[output] = index
            }
        }
        for (index, node) in graph.nodes.enumerated() {
            for input in node.inputs where !input.isEmpty && !sources.contains(input) {
                guard let source = producer[input] else {
                    throw ConvertError.invalidONNX("node '\(node.name)' reads '\(input)', which nothing defines")
                }
                if source == index {
                    throw ConvertError.invalidONNX("node '\(node.name)' reads its own output '\(input)'")
                }
            }
        }
        for output in graph.outputs where !sources.contains(output.name) && producer[output.name] == nil {
            throw ConvertError.invalidONNX("graph output '\(output.name)' is not produced by any node")
        }
        if !isSorted(graph, sources: sources) {
            graph.nodes = try sorted(graph, producer: producer, sources: sources)
        }
    }

    private static func isSorted(_ graph: IRGraph, sources: Set<String>) -> Bool {
        var available = sources
        for node in graph.nodes {
            for input in node.inputs where !input.isEmpty && !available.contains(input) { return false }
            available.formUnion(node.outputs)
        }
        return true
    }

    /// Kahn's algorithm, taking ready nodes in file order so that an almost-sorted file keeps its order.
    private static func sorted(_ graph: IRGraph, producer: [String: Int], sources: Set<String>) throws -> [IRNode] {
        let count = graph.nodes.count
        var pending = [Int](repeating: 0, count: count)
        var dependents = [[Int]](repeating: [], count: count)
        for (index, node) in graph.nodes.enumerated() {
            for input in Set(node.inputs) where !input.isEmpty && !sources.contains(input) {
                if let source = producer[input] {
                    pending[index] += 1
                    dependents[source].append(index)
                }
            }
        }
        // A min-heap would be O(n log n); ready sets in CNN graphs are small, so a sorted insert is enough.
        var ready = (0..<count).filter { pending[$0] == 0 }
        var order: [IRNode] = []
        order.reserveCapacity(count)
        while !ready.isEmpty {
            let next = ready.removeFirst()
            order.append(graph.nodes[next])
            for dependent in dependents[next] {
                pending[dependent] -= 1
                if pending[dependent] == 0 {
                    let position = ready.firstIndex { $0 > dependent } ?? ready.endIndex
                    ready.insert(dependent, at: position)
                }
            }
        }
        guard order.count == count else {
            let stuck = (0..<count).filter { pending[$0] > 0 }.prefix(5).map { graph.nodes[$0].name }
            throw ConvertError.invalidONNX("the graph has a cycle (through nodes \(stuck.joined(separator: ", ")))")
        }
        return order
    }
}
