/// The layer kinds whose sparse kernels have different crossovers against dense (`SparseCrossover`).
public enum SparseLayerKind: String, Sendable, CaseIterable {
    /// Convolution whose kernel is 1 in every spatial dimension (any stride).
    case pointwise = "1x1"
    /// Convolution with a larger kernel and stride 1 in every dimension.
    case spatial = "kxk/s1"
    /// Convolution with a larger kernel and a stride above 1 in some dimension.
    case stridedSpatial = "kxk/s2"
    /// Convolution with `group == Cin == Cout` (weight `[C, 1, k...]`).
    case depthwise = "dw"
    /// Gemm or MatMul.
    case fullyConnected = "fc"

    /// The kind of a Conv with weight `[Cout, Cin/group, k...]`, `nil` for a weight of rank below 3.
    static func convolution(weightShape shape: [Int], group: Int, strides: [Int]) -> SparseLayerKind? {
        guard shape.count >= 3 else { return nil }
        // Cin = shape[1] × group, so group == Cin == Cout means one input channel per group and Cout == group.
        if shape[1] == 1, shape[0] == group { return .depthwise }
        if shape[2...].allSatisfy({ $0 == 1 }) { return .pointwise }
        return strides.allSatisfy { $0 == 1 } ? .spatial : .stridedSpatial
    }
}
