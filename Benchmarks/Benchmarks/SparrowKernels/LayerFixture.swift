import Sparrow
import SparrowConvert

/// A one-layer `.sparrow` model built in memory with seeded weights, its session, and preallocated
/// input and output tensors: everything `Session.run(_:into:)` needs, made before measurement starts.
final class LayerFixture {
    let layer: Layer
    let session: Session
    let inputs: [Tensor]
    var outputs: [Tensor]

    init(layer: Layer, threads: Int, seed: UInt64 = 0x5EED) throws {
        self.layer = layer
        var random = SplitMix64(seed: seed)
        let model = try Model(bytes: Self.encode(layer, random: &random))
        session = try Session(model: model, threads: threads)
        inputs = [try Tensor(shape: layer.inputShape, floats: random.floats(layer.inputShape.reduce(1, *)))]
        outputs = [Tensor(zeros: layer.outputShape)]
    }

    /// One inference into the preallocated outputs.
    func run() throws {
        try session.run(inputs, into: &outputs)
    }

    /// Graph: input `x`, constant weight `w` and bias `b`, one node, output `y`.
    private static func encode(_ layer: Layer, random: inout SplitMix64) -> [UInt8] {
        var blobs = BlobSection()
        func constant(_ name: String, _ shape: [Int], scale: Float) -> TensorDecl {
            let values = random.floats(shape.reduce(1, *), scale: scale)
            let bytes = values.withUnsafeBytes { Array($0) }  // little-endian hosts only (x86_64, arm64)
            return TensorDecl(name: name, dtype: .float32, shape: shape.map { .fixed($0) },
                              storage: .dense(blobs.append(bytes)))
        }

        let x = TensorDecl(name: "x", dtype: .float32, shape: layer.inputShape.map { .fixed($0) })
        let y = TensorDecl(name: "y", dtype: .float32, shape: [])
        var attributes: [String: Attribute] = [:]
        let op: OpKind
        let weights: TensorDecl, bias: TensorDecl
        switch layer.kind {
        case .conv(let c, let m, _, _, let k, let s, let p, let g):
            op = .conv
            let fanIn = c / g * k * k
            // He-style scale keeps activations O(1) through ReLU, far from denormals.
            weights = constant("w", [m, c / g, k, k], scale: (6 / Float(fanIn)).squareRoot())
            bias = constant("b", [m], scale: 0.1)
            attributes["pads"] = .ints([Int64(p), Int64(p), Int64(p), Int64(p)])
            attributes["strides"] = .ints([Int64(s), Int64(s)])
            attributes["group"] = .int(Int64(g))
        case .gemm(let n, let m):
            op = .gemm
            weights = constant("w", [m, n], scale: (6 / Float(n)).squareRoot())
            bias = constant("b", [m], scale: 0.1)
            attributes["transB"] = .int(1)
        }
        switch layer.activation {
        case .none:
            break
        case .relu:
            attributes["activation"] = .int(FusedActivation.relu.rawValue)
        case .relu6:
            attributes["activation"] = .int(FusedActivation.clip.rawValue)
            attributes["activation_alpha"] = .float(0)
            attributes["activation_beta"] = .float(6)
        }
        let graph = GraphDescription(
            tensors: [x, weights, bias, y],
            nodes: [NodeDecl(op: op, name: layer.label, inputs: [0, 1, 2], outputs: [3], attributes: attributes)],
            inputs: [0], outputs: [3])
        return ModelFileWriter.encode(graph: graph, blobs: blobs,
                                      metadata: [("producer", "Sparrow Benchmarks/SparrowKernels")])
    }
}
