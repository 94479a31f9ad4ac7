import CKernels

/// A 1x1 convolution as one int8 GEMM, called on the C kernel directly (`spw_qs8_gemm`, dispatched to the best
/// variant for this CPU): uint8 activations [inputChannels][pixels] × int8 weights [outputChannels][inputChannels]
/// packed once by `spw_qs8_gemm_pack`, int32 bias, per-channel requantization to uint8 output [outputChannels][pixels].
/// Everything is allocated and packed in `init`, outside the measurement; `run()` is the GEMM call only.
final class Int8GemmFixture {
    let layer: Layer
    private var params: spw_qs8_gemm_params
    private let input: UnsafeMutablePointer<UInt8>
    private let packed: UnsafeMutableRawPointer
    private let bias: UnsafeMutablePointer<Int32>
    private let scales: UnsafeMutablePointer<Float>
    private let output: UnsafeMutablePointer<UInt8>

    init(layer: Layer, seed: UInt64 = 0x5EED) {
        guard case .conv(let c, let m, let h, let w, 1, 1, 0, 1) = layer.kind else {
            preconditionFailure("\(layer.label): int8 GEMM benchmarks are 1x1 stride-1 convolutions")
        }
        self.layer = layer
        var random = SplitMix64(seed: seed)
        let pixels = h * w

        input = .allocate(capacity: c * pixels)
        for i in 0..<(c * pixels) { input[i] = UInt8(truncatingIfNeeded: random.next() >> 56) }
        let weights = (0..<(m * c)).map { _ in Int8(truncatingIfNeeded: Int(random.next() % 255) - 127) }
        let packedSize = spw_qs8_gemm_packed_size(m, c)
        let packed = UnsafeMutableRawPointer.allocate(byteCount: packedSize, alignment: 64)
        weights.withUnsafeBufferPointer { spw_qs8_gemm_pack(m, c, $0.baseAddress, packed) }
        self.packed = packed

        bias = .allocate(capacity: m)
        scales = .allocate(capacity: m)
        // acc ≈ sum of c products of |w| ≤ 127 and |x - 128| ≤ 128: its spread is ~ 73 · 74 · sqrt(c); a multiplier
        // of 40 / that spread puts most outputs inside [0, 255] around the zero point 128, not all clamped.
        let spread = 73 * 74 * Float(c).squareRoot()
        for r in 0..<m {
            bias[r] = Int32(truncatingIfNeeded: Int(random.next() % 2001) - 1000)
            scales[r] = 40 / spread * (0.75 + 0.5 * Float(random.next() >> 40) / Float(1 << 24))
        }
        output = .allocate(capacity: m * pixels)
        output.initialize(repeating: 0, count: m * pixels)

        params = spw_qs8_gemm_params(
            rows: m, columns: pixels, depth: c, input_stride: pixels, output_stride: pixels,
            output_type: SPW_QS8_GEMM_OUTPUT_QU8, input_zero_point: 128, output_zero_point: 128,
            output_min: 0, output_max: 255, float_min: -.infinity, float_max: .infinity)
    }

    deinit {
        input.deallocate()
        packed.deallocate()
        bias.deallocate()
        scales.deallocate()
        output.deallocate()
    }

    /// One GEMM (single thread) into the preallocated output.
    func run() {
        spw_qs8_gemm(&params, input, packed, bias, scales, output)
    }

    /// An output byte, so the optimizer cannot treat the result as unused.
    var checksum: UInt8 { output[0] &+ output[params.rows * params.columns - 1] }
}
