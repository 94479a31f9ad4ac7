import Sparrow

/// Folds `Add(Conv(…), r)` into the Conv as its residual input (Sparrow's fourth Conv input, added after the bias
/// and before the fused activation), so the sum is formed while the convolution's output is still in registers
/// or cache instead of in a second pass over both tensors. Run `FuseActivationPass` after it: the Relu that
/// follows a ResNet block's Add then fuses too.
///
/// Conditions: the Conv has group 1 and no fused activation yet (Conv → Relu → Add must stay as it is); its
/// output is read by the Add alone and is not a graph output; both operands and the sum have the same known f32
/// shape (no broadcasting); the other operand is computed before the Conv in node order (or is a graph input),
/// so that it is ready when the Conv runs. When both operands are such Convs (a downsampling block), the later
/// one takes the other as its residual.
///
/// Not part of the standard pipeline: the structured-pruning steps read residual Adds as the blocks and channel
/// ties they are, so the converter runs this pass after them, just before lowering.
public struct FuseResidualAddPass: GraphPass {
    public var name: String { "fuse-residual-add" }

    /// Inferred element types and shapes of the graph's values.
    let types: [String: (DType, [Int])]

    public init(types: [String: (DType, [Int])]) {
        self.types = types
    }

    public func run(_ graph: inout IRGraph) throws {
        let uses = IRUseIndex(graph)
        var removed = Set<Int>()
        var fusedConvs = Set<Int>()
        for index in graph.nodes.indices {
            let add = graph.nodes[index]
            guard add.domain.isEmpty, add.opType == "Add", add.inputs.count == 2, add.outputs.count == 1,
                  let sum = types[add.outputs[0]], sum.0 == .float32,
                  add.inputs.allSatisfy({ types[$0].map { $0.0 == .float32 && $0.1 == sum.1 } ?? false })
            else { continue }
            // Later producer first: its operand is the one whose partner is certainly ready.
            let candidates = [0, 1].sorted { (uses.producer[add.inputs[$0]] ?? -1) > (uses.producer[add.inputs[$1]] ?? -1) }
            for slot in candidates {
                let value = add.inputs[slot], other = add.inputs[1 - slot]
                guard value != other, let convIndex = uses.producer[value], !fusedConvs.contains(convIndex),
                      isFusable(graph.nodes[convIndex], output: value, uses: uses),
                      (uses.producer[other] ?? -1) < convIndex, graph.initializers[other] == nil
                else { continue }
                var conv = graph.nodes[convIndex]
                while conv.inputs.count < 3 { conv.inputs.append("") }
                conv.inputs.append(other)
                conv.outputs[0] = add.outputs[0]
                graph.nodes[convIndex] = conv
                fusedConvs.insert(convIndex)
                removed.insert(index)
                break
            }
        }
        graph.removeNodes(at: removed)
    }

    private func isFusable(_ conv: IRNode, output: String, uses: IRUseIndex) -> Bool {
        conv.domain.isEmpty && conv.opType == "Conv" && conv.inputs.count <= 3 && conv.outputs.first == output
            && (conv.attributes["group"]?.intFromIR ?? 1) == 1
            && (conv.attributes["activation"]?.intFromIR ?? 0) == FusedActivation.none.rawValue
            && uses.hasSingleInternalConsumer(output)
    }
}
