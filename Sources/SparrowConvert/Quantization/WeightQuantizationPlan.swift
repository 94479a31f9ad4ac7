import Sparrow

/// The weights `--quantize int8-weights` stores as int8: those of every prunable layer (Conv, Gemm, MatMul with
/// a float32 constant weight, `PrunableLayer`), one scale per output channel — axis 0 of a Conv weight or a Gemm
/// weight with transB = 1, axis 1 of a Gemm weight without, the last axis of a MatMul's constant B (the row axis
/// of a constant A). A weight stored sparse takes one scale per row of its matrix (axis 0), the form the format's
/// int8 CSR/COO values have. Biases stay f32.
struct WeightQuantizationPlan {
    /// Quantized weights by initializer name.
    let weights: [String: Int8Weights]
    let report: QuantizationReport

    init(_ graph: IRGraph, encodings: [String: WeightEncoding]) {
        var weights: [String: Int8Weights] = [:]
        var layers: [QuantizationReport.Layer] = []
        for layer in PrunableLayer.all(in: graph) where weights[layer.weight] == nil {
            guard let floats = graph.initializers[layer.weight]?.floatValues() else { continue }
            let encoding = encodings[layer.weight] ?? .dense
            let shape = layer.weightShape
            let axis = encoding == .dense ? Self.outputAxis(of: layer, in: graph) : 0
            let quantized = Int8Weights(floats, shape: shape, axis: axis)
            weights[layer.weight] = quantized
            let nonzeros = floats.count(where: { $0 != 0 })
            let matrix = SparseMatrixShape(shape)
            let before = encoding.byteCount(matrix, nonzeros: nonzeros)
            // int8 codes instead of f32 values, plus one f32 scale per channel (row).
            let after = encoding == .dense ? floats.count + shape[axis] * 4
                : before - nonzeros * 3 + matrix.rows * 4
            layers.append(.init(node: layer.node, opType: layer.opType, weightShape: shape, axis: axis,
                                encoding: encoding, bytesBefore: before, bytesAfter: after,
                                sqnr: Int8Weights.sqnr(original: floats, dequantized: quantized.dequantized)))
        }
        self.weights = weights
        report = QuantizationReport(mode: .int8Weights, layers: layers)
    }

    /// `graph` with every quantized weight replaced by the values the runtime decodes: the model the int8 file
    /// computes, in f32, for measuring fidelity.
    func dequantized(_ graph: IRGraph) -> IRGraph {
        var copy = graph
        for (name, quantized) in weights {
            copy.initializers[name] = IRTensorData(floats: quantized.dequantized,
                                                   shape: graph.initializers[name]!.shape)
        }
        return copy
    }

    /// The axis of the output channels (or features) in the layer's weight.
    static func outputAxis(of layer: PrunableLayer, in graph: IRGraph) -> Int {
        let rank = layer.weightShape.count
        guard let node = graph.nodes.first(where: { $0.name == layer.node }), rank > 1 else { return 0 }
        switch node.opType {
        case "Gemm":
            return (node.attributes["transB"]?.intFromIR ?? 0) != 0 ? 0 : 1
        case "MatMul":
            return node.inputs.first == layer.weight ? rank - 2 : rank - 1
        default:
            return 0
        }
    }
}
