import Sparrow

/// Imports a QDQ-quantized ONNX model (ONNX Runtime's `quantize_static` with `QuantFormat.QDQ`, PyTorch export)
/// as an f32 graph that computes what the integer model computes, to its rounding points:
///
/// - `DequantizeLinear` of a constant (int8/uint8/int32 weights and biases, per tensor or per axis) is folded into
///   an f32 constant `(q − zeroPoint) · scale` — the exact values the integer model multiplies with.
/// - `QuantizeLinear → DequantizeLinear` on an activation (per tensor, constant scale and zero point) becomes one
///   `QuantizeDequantize` node: round to the integer grid and back, in f32.
///
/// Everything between the pairs (Conv, Gemm, Add, pooling…) then runs on the runtime's f32 kernels. Integer
/// kernels that take such pairs as int8 execution are issue 5's runtime work; this import is what they will
/// match. A QuantizeLinear or DequantizeLinear left over (a computed scale, per-axis activations, a Q whose
/// output something other than DequantizeLinear reads) stays, and the supported-ops check names it.
public struct QDQPass: GraphPass {
    public var name: String { "import-qdq" }

    public init() {}

    public func run(_ graph: inout IRGraph) throws {
        var removed = Set<Int>()
        // Constants first, so that a DequantizeLinear's scale and zero point are initializers when pairs are matched.
        for index in graph.nodes.indices {
            let node = graph.nodes[index]
            guard node.domain.isEmpty, node.opType == "DequantizeLinear", node.outputs.count == 1,
                  let input = node.inputs.first, graph.initializers[input] != nil,
                  !graph.isGraphOutput(node.outputs[0]),
                  let folded = try Self.dequantized(node, graph) else { continue }
            graph.initializers[node.outputs[0]] = folded
            if let codes = Self.symmetricInt8Codes(node, graph) { graph.int8Codes[node.outputs[0]] = codes }
            removed.insert(index)
        }
        let uses = IRUseIndex(graph)
        for index in graph.nodes.indices where !removed.contains(index) {
            let quantize = graph.nodes[index]
            guard quantize.domain.isEmpty, quantize.opType == "QuantizeLinear", quantize.outputs.count == 1,
                  let parameters = try Self.perTensor(quantize, graph),
                  !graph.isGraphOutput(quantize.outputs[0]) else { continue }
            let readers = uses.consumers(of: quantize.outputs[0])
            guard !readers.isEmpty, readers.allSatisfy({ reader in
                let node = graph.nodes[reader]
                return node.domain.isEmpty && node.opType == "DequantizeLinear" && node.inputs.first == quantize.outputs[0]
                    && (try? Self.perTensor(node, graph)) == parameters
            }) else { continue }
            for reader in readers {
                let dequantize = graph.nodes[reader]
                graph.nodes[reader] = IRNode(
                    name: dequantize.name, opType: "QuantizeDequantize", inputs: [quantize.inputs[0]],
                    outputs: dequantize.outputs, attributes: [
                        "scale": .float(parameters.scale), "zero_point": .int(parameters.zeroPoint),
                        "qmin": .int(parameters.range.lowerBound), "qmax": .int(parameters.range.upperBound),
                    ])
            }
            removed.insert(index)
        }
        graph.removeNodes(at: removed)
    }

    /// The codes of a constant DequantizeLinear of int8 values with zero zero points, in the form int8 weight
    /// storage takes (one scale per index along the axis; a per-tensor scale repeated along axis 0); `nil` for
    /// other types, nonzero zero points or a scalar.
    static func symmetricInt8Codes(_ node: IRNode, _ graph: IRGraph) -> Int8Weights? {
        guard let data = graph.initializers[node.inputs[0]], data.dtype == .int8, !data.shape.isEmpty,
              let codes = data.int64Values(), let scales = graph.initializers[node.inputs[1]]?.floatValues(),
              !scales.isEmpty
        else { return nil }
        if node.inputs.count >= 3, !node.inputs[2].isEmpty {
            guard let zeros = graph.initializers[node.inputs[2]]?.int64Values(), zeros.allSatisfy({ $0 == 0 })
            else { return nil }
        }
        let shape = data.shape
        var axis = 0
        var perIndex = [Float](repeating: scales.first ?? 1, count: shape[0])
        if scales.count > 1 {
            axis = Int(node.attributes["axis"]?.intFromIR ?? 1)
            if axis < 0 { axis += shape.count }
            guard axis >= 0, axis < shape.count, shape[axis] == scales.count else { return nil }
            perIndex = scales
        }
        return Int8Weights(codes: codes.map { Int8($0) }, scales: perIndex, axis: axis,
                           inner: shape[(axis + 1)...].reduce(1, *))
    }

    /// Per-tensor quantization parameters of a QuantizeLinear or DequantizeLinear node.
    struct Parameters: Equatable {
        var scale: Float
        var zeroPoint: Int64
        var range: ClosedRange<Int64>
    }

    /// The node's constant, one-element scale and zero point and the integer range of its quantized side; `nil`
    /// when they are computed, per axis, or of a type other than int8/uint8.
    static func perTensor(_ node: IRNode, _ graph: IRGraph) throws -> Parameters? {
        guard node.inputs.count >= 2, let scale = graph.initializers[node.inputs[1]]?.floatValues(),
              scale.count == 1, scale[0] > 0, scale[0].isFinite else { return nil }
        var zeroPoint: Int64 = 0
        var type = DType.uint8
        if node.inputs.count >= 3, !node.inputs[2].isEmpty {
            guard let data = graph.initializers[node.inputs[2]], data.elementCount == 1,
                  let values = data.int64Values() else { return nil }
            zeroPoint = values[0]
            type = data.dtype
        }
        guard let range = integerRange(type) else { return nil }
        return Parameters(scale: scale[0], zeroPoint: zeroPoint, range: range)
    }

    private static func integerRange(_ type: DType) -> ClosedRange<Int64>? {
        switch type {
        case .uint8: return 0...255
        case .int8: return -128...127
        default: return nil
        }
    }

    /// `(q − zeroPoint) · scale` of a DequantizeLinear whose operands are all constants, per tensor or along
    /// `axis` (default 1, negative counts from the end); `nil` when an operand is not a constant.
    /// - Throws: `ConvertError.invalidONNX` for scales or zero points that do not fit the input.
    static func dequantized(_ node: IRNode, _ graph: IRGraph) throws -> IRTensorData? {
        guard node.inputs.count >= 2, let data = graph.initializers[node.inputs[0]],
              let codes = data.int64Values(), [.int8, .uint8, .int32].contains(data.dtype),
              let scales = graph.initializers[node.inputs[1]]?.floatValues() else { return nil }
        var zeroPoints = [Int64](repeating: 0, count: scales.count)
        if node.inputs.count >= 3, !node.inputs[2].isEmpty {
            guard let values = graph.initializers[node.inputs[2]]?.int64Values() else { return nil }
            zeroPoints = values
        }
        guard !scales.isEmpty else {
            throw ConvertError.invalidONNX("DequantizeLinear '\(node.name)' has an empty scale")
        }
        let shape = data.shape
        var inner = 1, channels = 1
        if scales.count > 1 {
            var axis = Int(node.attributes["axis"]?.intFromIR ?? 1)
            if axis < 0 { axis += shape.count }
            guard axis >= 0, axis < shape.count, shape[axis] == scales.count else {
                throw ConvertError.invalidONNX("DequantizeLinear '\(node.name)': \(scales.count) scales for axis "
                    + "\(axis) of shape \(shape)")
            }
            channels = scales.count
            inner = shape[(axis + 1)...].reduce(1, *)
        }
        guard zeroPoints.count == scales.count else {
            throw ConvertError.invalidONNX("DequantizeLinear '\(node.name)': \(zeroPoints.count) zero points for "
                + "\(scales.count) scales")
        }
        let floats = codes.enumerated().map { i, q -> Float in
            let c = (i / inner) % channels
            return Float(q - zeroPoints[c]) * scales[c]
        }
        return IRTensorData(floats: floats, shape: shape)
    }
}
