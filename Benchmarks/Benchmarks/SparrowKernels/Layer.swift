/// One layer of a real network at batch 1, fp32: a convolution (dense, grouped or depthwise) or a
/// fully connected Gemm with transposed weights.
struct Layer: Sendable {
    enum Kind: Sendable {
        /// NCHW convolution; `group == inputChannels == outputChannels` is depthwise.
        case conv(inputChannels: Int, outputChannels: Int, height: Int, width: Int,
                  kernel: Int, stride: Int, pad: Int, group: Int)
        /// Y[1, outputs] = X[1, inputs] · Wᵀ + b, W stored [outputs, inputs] (ONNX Gemm, transB = 1).
        case gemm(inputs: Int, outputs: Int)
    }

    /// The activation fused into the layer, as the network has it (ReLU6 is MobileNetV2's Clip(0, 6)).
    enum Activation: Sendable {
        case none, relu, relu6
    }

    var network: String
    var label: String
    var kind: Kind
    var activation: Activation
    /// Fraction of the weights that are zero; above 0 the weight is stored CSR (exactly
    /// `round(weights · sparsity)` zeros at seeded random positions) and the layer runs the SpMM path.
    var sparsity: Double = 0

    /// Input tensor shape.
    var inputShape: [Int] {
        switch kind {
        case .conv(let c, _, let h, let w, _, _, _, _): return [1, c, h, w]
        case .gemm(let inputs, _): return [1, inputs]
        }
    }

    /// Output tensor shape.
    var outputShape: [Int] {
        switch kind {
        case .conv(_, let m, let h, let w, let k, let s, let p, _):
            return [1, m, (h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1]
        case .gemm(_, let outputs): return [1, outputs]
        }
    }

    /// Multiply-accumulates of one run; one MAC is two flops (padding taps counted, as every framework does).
    var macs: Int {
        switch kind {
        case .conv(let c, let m, _, _, let k, _, _, let g):
            let out = outputShape
            return m * out[2] * out[3] * (c / g) * k * k
        case .gemm(let inputs, let outputs):
            return inputs * outputs
        }
    }

    /// Elements of the weight tensor.
    var weightCount: Int {
        switch kind {
        case .conv(let c, let m, _, _, let k, _, _, let g): return m * (c / g) * k * k
        case .gemm(let inputs, let outputs): return inputs * outputs
        }
    }

    /// Nonzero weights: all of them when dense, else exactly `weightCount - round(weightCount · sparsity)`.
    var nonzeroWeights: Int {
        weightCount - Int((Double(weightCount) * sparsity).rounded())
    }

    /// The MACs whose weight is nonzero (what the SpMM kernel actually does): every weight is used the same
    /// number of times (once per output pixel), so this is `macs` scaled by the exact nonzero count.
    var nonzeroMACs: Int {
        macs / weightCount * nonzeroWeights
    }

    /// Benchmark name: network, layer, threads, and the MACs so that GFLOP/s = 2 · MACs / time. A sparse layer
    /// has `csrNN` (NN = % of zero weights) after the label and its nonzero MACs before the dense-equivalent ones:
    /// "... csr90 t1 [5.138 nnz MMAC] [51.380 MMAC]". `suffix` goes after the label (e.g. "int8").
    func benchmarkName(threads: Int, suffix: String? = nil) -> String {
        var name = "\(network) \(label)"
        if sparsity > 0 { name += " csr\(Int((sparsity * 100).rounded()))" }
        if let suffix { name += " \(suffix)" }
        name += " t\(threads)"
        if sparsity > 0 { name += " [\(Self.millions(nonzeroMACs)) nnz MMAC]" }
        return name + " [\(Self.millions(macs)) MMAC]"
    }

    /// Millions with three decimals (0.1% or better for every layer here), without Foundation's formatting.
    static func millions(_ count: Int) -> String {
        let thousands = (count + 500) / 1000
        let fraction = String(thousands % 1000)
        let padded = String(repeating: "0", count: 3 - fraction.count) + fraction
        return "\(thousands / 1000).\(padded)"
    }
}
