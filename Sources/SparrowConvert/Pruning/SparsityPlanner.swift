import Sparrow

/// The pruning and sparse-storage step of a conversion, run after the pass pipeline (so magnitudes are those of
/// the BatchNorm-folded weights) and before lowering: prunes the targeted weights in place, measures the sparsity
/// of every prunable weight (pre-pruned ones included) and picks each one's encoding.
enum SparsityPlanner {
    struct Plan {
        /// Sparse encodings by initializer name; weights not listed are stored dense.
        var encodings: [String: WeightEncoding]
        var report: PruningReport
    }

    /// - Throws: `ConvertError.invalidArgument` for bad pruning options (`PruneTargets`).
    static func run(_ graph: inout IRGraph, options: ConvertOptions,
                    crossover: SparseCrossover = .provisional) throws -> Plan {
        let layers = PrunableLayer.all(in: graph)
        let targets = try PruneTargets(layers: layers, graph: graph, options: options)
        var values: [String: [Float]] = [:]
        func load(_ weight: String) -> [Float] {
            if let cached = values[weight] { return cached }
            let floats = float32Values(graph.initializers[weight]!)
            values[weight] = floats
            return floats
        }

        for (weight, fraction) in targets.perWeight where fraction > 0 {
            var floats = load(weight)
            MagnitudePruning.prune(&floats, fraction: fraction)
            values[weight] = floats
        }
        if !targets.globalWeights.isEmpty, targets.globalFraction > 0 {
            var tensors = targets.globalWeights.map(load)
            MagnitudePruning.prune(&tensors, fraction: targets.globalFraction)
            for (weight, floats) in zip(targets.globalWeights, tensors) { values[weight] = floats }
        }
        let pruned = Set(targets.perWeight.filter { $0.fraction > 0 }.map(\.weight))
            .union(targets.globalFraction > 0 ? targets.globalWeights : [])
        for weight in pruned {
            let bytes = values[weight]!.withUnsafeBytes { Array($0) }
            graph.initializers[weight] = IRTensorData(dtype: .float32, shape: graph.initializers[weight]!.shape,
                                                      bytes: bytes)
        }

        let policy = SparseEncodingPolicy(crossover: crossover, format: options.sparseFormat)
        var encodings: [String: WeightEncoding] = [:]
        var rows: [PruningReport.Layer] = []
        var seen = Set<String>()
        for layer in layers where !seen.contains(layer.weight) {
            seen.insert(layer.weight)
            // Weights that were not pruned are only measured: no need to keep a copy of each.
            let floats = values[layer.weight] ?? float32Values(graph.initializers[layer.weight]!)
            let zeros = floats.count(where: { $0 == 0 })
            let encoding = policy.encoding(kind: layer.kind, shape: layer.weightShape, zeros: zeros)
            if encoding != .dense { encodings[layer.weight] = encoding }
            var notes = targets.notes[layer.weight] ?? []
            if zeros > 0, !pruned.contains(layer.weight) { notes.append("zeros in source") }
            let sharing = layers.filter { $0.weight == layer.weight && $0.node != layer.node }.map(\.node)
            if !sharing.isEmpty { notes.append("shared with " + sharing.joined(separator: ", ")) }
            let matrix = SparseMatrixShape(layer.weightShape)
            rows.append(PruningReport.Layer(
                node: layer.node, opType: layer.opType, kind: layer.kind, weightShape: layer.weightShape,
                elementCount: floats.count, zeroCount: zeros, encoding: encoding,
                denseBytes: floats.count * 4, storedBytes: encoding.byteCount(matrix, nonzeros: floats.count - zeros),
                note: notes.joined(separator: "; ")))
        }
        let requested = options.prune != nil || !options.pruneLayers.isEmpty
        return Plan(encodings: encodings, report: PruningReport(layers: rows, pruningRequested: requested))
    }

    /// The elements of a float32 initializer whose byte count matches its shape (`PrunableLayer` admits no
    /// other). A bulk copy: the converter runs on little-endian hosts (IRGraph+Helpers.swift), and the
    /// element-wise `floatValues()` takes seconds per model in debug builds.
    static func float32Values(_ data: IRTensorData) -> [Float] {
        [Float](unsafeUninitializedCapacity: data.elementCount) { buffer, count in
            data.bytes.withUnsafeBytes { raw in
                let source = UnsafeRawBufferPointer(rebasing: raw[..<(data.elementCount * 4)])
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
            }
            count = data.elementCount
        }
    }
}
