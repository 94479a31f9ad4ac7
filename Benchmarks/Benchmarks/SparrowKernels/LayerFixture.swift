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
        // A CSR weight must run the SpMM kernel, not be densified at load.
        precondition(layer.sparsity == 0 || session.sparseWeightCount == 1, "\(layer.label): SpMM path not taken")
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

        /// Seeded weights with exactly `zeros` of them set to zero at random positions (partial Fisher–Yates),
        /// stored CSR: rows = shape[0], u16 column indices, fp32 values.
        func sparse(_ name: String, _ shape: [Int], scale: Float, zeros: Int) -> TensorDecl {
            var values = random.floats(shape.reduce(1, *), scale: scale)
            var order = Array(values.indices)
            for i in 0..<zeros {
                let j = i + Int(random.next() % UInt64(order.count - i))
                order.swapAt(i, j)
                values[order[i]] = 0
            }
            // A kept weight drawn as exactly 0 (odds 2^-24) would change the nonzero count in the name.
            for i in order[zeros...] where values[i] == 0 { values[i] = scale / Float(1 << 23) }
            let rows = shape[0], cols = values.count / rows
            var rowPointers: [UInt32] = [0], columns: [UInt16] = [], nonzeros: [Float] = []
            for row in 0..<rows {
                for col in 0..<cols where values[row * cols + col] != 0 {
                    columns.append(UInt16(col))
                    nonzeros.append(values[row * cols + col])
                }
                rowPointers.append(UInt32(nonzeros.count))
            }
            let csr = CSRStorage(
                rows: rows, cols: cols, nonzeros: nonzeros.count,
                rowPointers: blobs.append(rowPointers.withUnsafeBytes { Array($0) }),
                columnIndices: blobs.append(columns.withUnsafeBytes { Array($0) }), indexWidth: .u16,
                values: blobs.append(nonzeros.withUnsafeBytes { Array($0) }), valueType: .float32)
            return TensorDecl(name: name, dtype: .float32, shape: shape.map { .fixed($0) }, storage: .csr(csr))
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
            let scale = (6 / Float(fanIn)).squareRoot()
            if layer.sparsity > 0 {
                weights = sparse("w", [m, c / g, k, k], scale: scale / Float(1 - layer.sparsity).squareRoot(),
                                 zeros: layer.weightCount - layer.nonzeroWeights)
            } else {
                weights = constant("w", [m, c / g, k, k], scale: scale)
            }
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
