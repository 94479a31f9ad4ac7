/// Operator kinds of a Sparrow graph. Semantics follow ONNX (opset 21 forms: axes, pads, split sizes, clip
/// bounds and similar are *inputs*, never attributes), plus Sparrow's own fused kinds at the end.
/// Raw values are on-disk codes (`docs/FORMAT.md`): append, never renumber or reuse.
public enum OpKind: UInt16, Sendable, CaseIterable {
    case conv = 1
    case convTranspose = 2
    case gemm = 3
    case matMul = 4
    case add = 5
    case sub = 6
    case mul = 7
    case div = 8
    case relu = 9
    case clip = 10
    case leakyRelu = 11
    case pRelu = 12
    case sigmoid = 13
    case hardSigmoid = 14
    case hardSwish = 15
    case silu = 16
    case tanh = 17
    case maxPool = 18
    case averagePool = 19
    case globalAveragePool = 20
    case concat = 21
    case split = 22
    case slice = 23
    case reshape = 24
    case flatten = 25
    case transpose = 26
    case squeeze = 27
    case unsqueeze = 28
    case pad = 29
    case resize = 30
    case softmax = 31
    case reduceMean = 32
    case batchNormalization = 33
    case cast = 34
    case pow = 35
    case sqrt = 36
    case erf = 37
    case expand = 38
    case shape = 39
    case gather = 40
    case range = 41
    case constantOfShape = 42
    /// Sparrow: ShuffleNet's Reshape–Transpose–Reshape channel shuffle as one op (attribute `group`).
    case channelShuffle = 43
    case identity = 44
    case globalMaxPool = 45
    case exp = 46
    case log = 47
    case neg = 48
    case reciprocal = 49
    case equal = 50
    case `where` = 51
    case min = 52
    case max = 53
    case floor = 54
    case ceil = 55
    case abs = 56
    case gelu = 57
    case reduceMax = 58
    case reduceSum = 59
    case logSoftmax = 60
    /// Sparrow's own: an ONNX QuantizeLinear → DequantizeLinear pair on f32 activations (per tensor), computed in
    /// f32 (attributes `scale`, `zero_point`, `qmin`, `qmax`).
    case quantizeDequantize = 61

    /// The ONNX operator type this kind was imported from (Sparrow-only kinds have their own name).
    public var name: String {
        switch self {
        case .conv: return "Conv"
        case .convTranspose: return "ConvTranspose"
        case .gemm: return "Gemm"
        case .matMul: return "MatMul"
        case .add: return "Add"
        case .sub: return "Sub"
        case .mul: return "Mul"
        case .div: return "Div"
        case .relu: return "Relu"
        case .clip: return "Clip"
        case .leakyRelu: return "LeakyRelu"
        case .pRelu: return "PRelu"
        case .sigmoid: return "Sigmoid"
        case .hardSigmoid: return "HardSigmoid"
        case .hardSwish: return "HardSwish"
        case .silu: return "SiLU"
        case .tanh: return "Tanh"
        case .maxPool: return "MaxPool"
        case .averagePool: return "AveragePool"
        case .globalAveragePool: return "GlobalAveragePool"
        case .concat: return "Concat"
        case .split: return "Split"
        case .slice: return "Slice"
        case .reshape: return "Reshape"
        case .flatten: return "Flatten"
        case .transpose: return "Transpose"
        case .squeeze: return "Squeeze"
        case .unsqueeze: return "Unsqueeze"
        case .pad: return "Pad"
        case .resize: return "Resize"
        case .softmax: return "Softmax"
        case .reduceMean: return "ReduceMean"
        case .batchNormalization: return "BatchNormalization"
        case .cast: return "Cast"
        case .pow: return "Pow"
        case .sqrt: return "Sqrt"
        case .erf: return "Erf"
        case .expand: return "Expand"
        case .shape: return "Shape"
        case .gather: return "Gather"
        case .range: return "Range"
        case .constantOfShape: return "ConstantOfShape"
        case .channelShuffle: return "ChannelShuffle"
        case .identity: return "Identity"
        case .globalMaxPool: return "GlobalMaxPool"
        case .exp: return "Exp"
        case .log: return "Log"
        case .neg: return "Neg"
        case .reciprocal: return "Reciprocal"
        case .equal: return "Equal"
        case .where: return "Where"
        case .min: return "Min"
        case .max: return "Max"
        case .floor: return "Floor"
        case .ceil: return "Ceil"
        case .abs: return "Abs"
        case .gelu: return "Gelu"
        case .reduceMax: return "ReduceMax"
        case .reduceSum: return "ReduceSum"
        case .logSoftmax: return "LogSoftmax"
        case .quantizeDequantize: return "QuantizeDequantize"
        }
    }

    /// Looks up a kind by its ONNX operator type (`SiLU` is Sparrow's name for ONNX's `Sigmoid`×x pattern).
    public init?(name: String) {
        guard let kind = OpKind.allCases.first(where: { $0.name == name }) else { return nil }
        self = kind
    }
}

/// Activation fused into Conv/Gemm/MatMul/ConvTranspose (attribute `activation`, parameters `activation_alpha`,
/// `activation_beta`). Raw values are on-disk codes.
public enum FusedActivation: Int64, Sendable, CaseIterable {
    case none = 0
    case relu = 1
    /// clamp to [alpha, beta]: Clip and Relu6.
    case clip = 2
    /// x < 0 ? alpha·x : x
    case leakyRelu = 3
    case sigmoid = 4
    /// max(0, min(1, alpha·x + beta))
    case hardSigmoid = 5
    case hardSwish = 6
    case silu = 7
    case tanh = 8
}
