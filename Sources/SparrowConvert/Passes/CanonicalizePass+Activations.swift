extension CanonicalizePass {
    /// `Mul(x, Sigmoid(x))` → `SiLU(x)` and `Mul(x, HardSigmoid(x, alpha = 1/6, beta = 1/2))` → `HardSwish(x)`,
    /// in either operand order, when the gate's output feeds only that Mul. Exporters of opsets without these
    /// ops (and PyTorch for SiLU at every opset) spell them this way; as one node the runtime reads x once and the
    /// activation can later fuse into the producing convolution.
    func fuseMultiplicativeActivations(_ graph: inout IRGraph) {
        let uses = IRUseIndex(graph)
        var removed = Set<Int>()
        for index in graph.nodes.indices {
            let mul = graph.nodes[index]
            guard mul.opType == "Mul", mul.domain.isEmpty, mul.inputs.count == 2, mul.outputs.count == 1 else { continue }
            for (x, gateValue) in [(mul.inputs[0], mul.inputs[1]), (mul.inputs[1], mul.inputs[0])] {
                guard let gateIndex = uses.producer[gateValue], !removed.contains(gateIndex),
                      uses.hasSingleInternalConsumer(gateValue) else { continue }
                let gate = graph.nodes[gateIndex]
                guard gate.domain.isEmpty, gate.inputs.first == x, !x.isEmpty,
                      let fused = Self.multiplicativeActivation(gate) else { continue }
                graph.nodes[index] = IRNode(name: mul.name, opType: fused, inputs: [x], outputs: mul.outputs)
                removed.insert(gateIndex)
                break
            }
        }
        graph.removeNodes(at: removed)
        fuseErfGelu(&graph)
    }

    /// The single op that `x * gate(x)` equals, if any.
    static func multiplicativeActivation(_ gate: IRNode) -> String? {
        switch gate.opType {
        case "Sigmoid":
            return "SiLU"
        case "HardSigmoid":
            // HardSwish(x) = x · max(0, min(1, x/6 + 1/2)); exporters write alpha as the float nearest 1/6.
            let alpha = gate.attributes["alpha"]?.floatFromIR ?? 0.2
            let beta = gate.attributes["beta"]?.floatFromIR ?? 0.5
            return abs(alpha - 1 / 6) <= 1e-6 && abs(beta - 0.5) <= 1e-6 ? "HardSwish" : nil
        default:
            return nil
        }
    }
}

extension CanonicalizePass {
    /// GELU spelled with Erf, as PyTorch exports `nn.GELU()` before opset 20 and as hand-written models compute
    /// it: `x · 0.5 · (1 + Erf(x / √2))`, the two Muls in any grouping and operand order, the division also as a
    /// multiplication by 1/√2. Becomes one `Gelu(x)` (exact form); the intermediate values must have no other
    /// readers. One node instead of five saves four passes over the activation.
    func fuseErfGelu(_ graph: inout IRGraph) {
        let uses = IRUseIndex(graph)
        var removed = Set<Int>()

        func producer(_ value: String, _ opType: String) -> Int? {
            guard let index = uses.producer[value], !removed.contains(index), graph.nodes[index].opType == opType,
                  graph.nodes[index].domain.isEmpty, uses.hasSingleInternalConsumer(value) else { return nil }
            return index
        }
        func isConstant(_ value: String, _ expected: Float) -> Bool {
            guard let scalar = graph.initializers[value]?.scalarFloat() else { return false }
            return abs(scalar - expected) <= 1e-5 * abs(expected)
        }
        /// Nodes of `1 + Erf(x / √2)` producing `value`, and x.
        func erfTerm(_ value: String) -> (nodes: [Int], x: String)? {
            guard let add = producer(value, "Add") else { return nil }
            let addInputs = graph.nodes[add].inputs
            guard addInputs.count == 2 else { return nil }
            for (erfValue, one) in [(addInputs[0], addInputs[1]), (addInputs[1], addInputs[0])] where isConstant(one, 1) {
                guard let erf = producer(erfValue, "Erf"), let scaled = graph.nodes[erf].inputs.first else { continue }
                if let div = producer(scaled, "Div"), graph.nodes[div].inputs.count == 2,
                   isConstant(graph.nodes[div].inputs[1], Float(2).squareRoot()) {
                    return ([add, erf, div], graph.nodes[div].inputs[0])
                }
                if let mul = producer(scaled, "Mul"), graph.nodes[mul].inputs.count == 2 {
                    let inputs = graph.nodes[mul].inputs
                    for (x, factor) in [(inputs[0], inputs[1]), (inputs[1], inputs[0])]
                    where isConstant(factor, 1 / Float(2).squareRoot()) {
                        return ([add, erf, mul], x)
                    }
                }
            }
            return nil
        }

        for index in graph.nodes.indices where !removed.contains(index) {
            let outer = graph.nodes[index]
            guard outer.opType == "Mul", outer.domain.isEmpty, outer.inputs.count == 2 else { continue }
            // Expand one operand that is itself a single-use Mul: three factors in all.
            for (inner, other) in [(outer.inputs[0], outer.inputs[1]), (outer.inputs[1], outer.inputs[0])] {
                guard let innerIndex = producer(inner, "Mul"), graph.nodes[innerIndex].inputs.count == 2 else { continue }
                let factors = graph.nodes[innerIndex].inputs + [other]
                guard let halfSlot = factors.firstIndex(where: { isConstant($0, 0.5) }) else { continue }
                let rest = factors.enumerated().filter { $0.offset != halfSlot }.map(\.element)
                var match: (x: String, nodes: [Int])?
                for (x, term) in [(rest[0], rest[1]), (rest[1], rest[0])] {
                    if let found = erfTerm(term), found.x == x {
                        match = (x, found.nodes)
                        break
                    }
                }
                guard let match else { continue }
                graph.nodes[index] = IRNode(name: outer.name, opType: "Gelu", inputs: [match.x], outputs: outer.outputs)
                removed.formUnion(match.nodes + [innerIndex])
                break
            }
        }
        graph.removeNodes(at: removed)
    }
}
