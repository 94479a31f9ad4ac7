import Sparrow

/// Replaces ShuffleNet's channel shuffle, `Reshape(x, [N, g, C/g, H, W]) → Transpose(perm [0, 2, 1, 3, 4]) →
/// Reshape(→ [N, C, H, W])`, with one `ChannelShuffle` node (`group = g`): one pass over memory instead of a
/// transpose plus two reshapes.
///
/// Both shapes must be constants (after constant folding); entries `0` (copy the input's dimension) and `-1`
/// (infer) are resolved, with the batch allowed to stay unknown. The final shape must equal `[N, g·C/g, H, W]`,
/// and the intermediate values must have no other readers and not be graph outputs.
///
/// Assumption when `x`'s shape is not declared: `x` is the 4-D tensor `[N, C, H, W]` the first reshape splits.
/// The pattern only type-checks for inputs with N·C·H·W elements, and exporters emit it for NCHW activations
/// only; when `x`'s shape is declared it is checked.
public struct ChannelShufflePass: GraphPass {
    public var name: String { "channel-shuffle" }

    public init() {}

    public func run(_ graph: inout IRGraph) throws {
        let uses = IRUseIndex(graph)
        var removed = Set<Int>()
        for index in graph.nodes.indices {
            let split = graph.nodes[index]
            guard Self.isReshape(split), !removed.contains(index),
                  let transposeIndex = Self.singleReader(of: split.outputs[0], uses: uses),
                  case let transpose = graph.nodes[transposeIndex], transpose.opType == "Transpose",
                  transpose.domain.isEmpty, transpose.outputs.count == 1,
                  transpose.attributes["perm"]?.intsFromIR == [0, 2, 1, 3, 4],
                  transpose.inputs.first == split.outputs[0],
                  let mergeIndex = Self.singleReader(of: transpose.outputs[0], uses: uses),
                  case let merge = graph.nodes[mergeIndex], Self.isReshape(merge), merge.inputs[0] == transpose.outputs[0],
                  let group = Self.group(split: split, merge: merge, in: graph)
            else { continue }
            graph.nodes[mergeIndex] = IRNode(name: transpose.name, opType: "ChannelShuffle", inputs: [split.inputs[0]],
                                             outputs: merge.outputs, attributes: ["group": .int(Int64(group))])
            removed.formUnion([index, transposeIndex])
        }
        graph.removeNodes(at: removed)
    }

    private static func isReshape(_ node: IRNode) -> Bool {
        node.opType == "Reshape" && node.domain.isEmpty && node.inputs.count == 2 && node.outputs.count == 1
            && node.attributes["allowzero"]?.intFromIR ?? 0 == 0
    }

    private static func singleReader(of value: String, uses: IRUseIndex) -> Int? {
        uses.hasSingleInternalConsumer(value) ? uses.consumers(of: value).first : nil
    }

    /// A dimension that is a number, or the unknown batch size `N` (the only dimension allowed to be unknown).
    enum Extent: Equatable {
        case fixed(Int)
        case batch
    }

    /// The group count if the two reshapes form a channel shuffle, `nil` otherwise.
    static func group(split: IRNode, merge: IRNode, in graph: IRGraph) -> Int? {
        guard let splitShape = graph.initializers[split.inputs[1]]?.int64Values(), splitShape.count == 5,
              let mergeShape = graph.initializers[merge.inputs[1]]?.int64Values(), mergeShape.count == 4
        else { return nil }
        let declared = graph.declaredShape(of: split.inputs[0])
        if let declared, declared.count != 4 { return nil }

        // Resolve [N, g, C/g, H, W]: only N may be 0 (copy x's batch) or -1 (inferred, i.e. the batch).
        let group = Int(splitShape[1]), perGroup = Int(splitShape[2])
        let height = Int(splitShape[3]), width = Int(splitShape[4])
        // The bound keeps every product below overflow: the shapes come from an untrusted file.
        let limit = 1 << 15
        guard group > 1, perGroup > 0, height > 0, width > 0,
              [group, perGroup, height, width].allSatisfy({ $0 <= limit }) else { return nil }
        let batch: Extent
        switch splitShape[0] {
        case 0, -1:
            if let n = declared?[0].fixedValue {
                guard n <= limit else { return nil }
                batch = .fixed(n)
            } else {
                batch = .batch
            }
        case let n where n > 0 && n <= Int64(limit): batch = .fixed(Int(n))
        default: return nil
        }
        if let declared {
            let expected: [Extent] = [batch, .fixed(group * perGroup), .fixed(height), .fixed(width)]
            // Symbolic dimensions cannot be checked here; the runtime checks them against the constant shapes.
            for (dim, want) in zip(declared, expected) where want != .batch {
                if let size = dim.fixedValue, want != .fixed(size) { return nil }
            }
        }

        // Resolve the merge shape against the transposed tensor [N, C/g, g, H, W].
        let transposed: [Extent] = [batch, .fixed(perGroup), .fixed(group), .fixed(height), .fixed(width)]
        var resolved: [Extent?] = mergeShape.enumerated().map { index, value in
            switch value {
            case 0: return transposed[index]
            case let v where v > 0: return .fixed(Int(v))
            default: return nil  // -1, resolved below
            }
        }
        let inferred = mergeShape.indices.filter { mergeShape[$0] == -1 }
        guard mergeShape.allSatisfy({ $0 >= -1 && $0 <= Int64(limit) * Int64(limit) }), inferred.count <= 1
        else { return nil }
        if let slot = inferred.first {
            // The element count is N·K; the -1 entry is it divided by the product of the other entries.
            let perBatch = group * perGroup * height * width
            var product = 1
            var batchFactors = 0
            for extent in resolved.compactMap({ $0 }) {
                switch extent {
                case .fixed(let v):
                    let (next, overflow) = product.multipliedReportingOverflow(by: v)
                    guard !overflow else { return nil }
                    product = next
                case .batch:
                    batchFactors += 1
                }
            }
            guard product > 0 else { return nil }
            switch batch {
            case .fixed(let n):
                let (total, overflow) = n.multipliedReportingOverflow(by: perBatch)
                guard !overflow, total % product == 0 else { return nil }
                resolved[slot] = .fixed(total / product)
            case .batch:
                // N stays symbolic: either another entry carries it (then -1 is K/P) or -1 is exactly N (K = P).
                guard perBatch % product == 0 else { return nil }
                let quotient = perBatch / product
                if batchFactors == 1 { resolved[slot] = .fixed(quotient) }
                else if batchFactors == 0 && quotient == 1 { resolved[slot] = .batch }
                else { return nil }
            }
        }
        let expected: [Extent] = [batch, .fixed(group * perGroup), .fixed(height), .fixed(width)]
        return resolved == expected ? group : nil
    }
}
