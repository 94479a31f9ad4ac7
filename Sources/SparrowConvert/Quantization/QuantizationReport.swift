/// What `--quantize` did to each weight, and how far the quantized model's outputs are from the f32 model's.
public struct QuantizationReport: Sendable {
    public struct Layer: Sendable, Equatable {
        /// Name of the first node that reads the weight.
        public let node: String
        public let opType: String
        public let weightShape: [Int]
        /// Axis of the per-channel scales.
        public let axis: Int
        /// Dense, or the sparse encoding whose values became int8.
        public let encoding: WeightEncoding
        /// Payload bytes with f32 values, and with int8 codes plus f32 scales (alignment padding not counted).
        public let bytesBefore: Int
        public let bytesAfter: Int
        /// Weight signal-to-quantization-noise ratio, dB (infinity when exact).
        public let sqnr: Double
    }

    public var mode: QuantizeMode
    public var layers: [Layer]
    /// The quantized model against the f32 model (after any pruning) on the calibration samples, and what those
    /// samples were.
    public var fidelity: Fidelity?
    public var samples = ""

    public var bytesBefore: Int { layers.reduce(0) { $0 + $1.bytesBefore } }
    public var bytesAfter: Int { layers.reduce(0) { $0 + $1.bytesAfter } }
    /// Lowest weight SQNR over the layers, dB.
    public var worstSQNR: Double { layers.map(\.sqnr).min() ?? .infinity }
}
