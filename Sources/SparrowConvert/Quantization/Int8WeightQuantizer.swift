import Foundation

/// Symmetric int8 quantization of a weight tensor with one scale per slice along an axis:
/// `scale[c] = max |w| over slice c / 127`, `q = round(w / scale[c])` in [-127, 127] (round half away from
/// zero), decoded as `Float(q) · scale[c]` — the formula the runtime decodes with (docs/FORMAT.md). -128 is never
/// produced, so that negating a weight never saturates. A slice of zeros gets scale 1 and all-zero codes.
struct Int8Weights: Equatable {
    var values: [Int8]
    var scales: [Float]
    var axis: Int
    /// Elements after the axis: element i belongs to slice (i / inner) % scales.count.
    var inner: Int

    /// Codes made elsewhere (an imported QDQ weight).
    init(codes: [Int8], scales: [Float], axis: Int, inner: Int) {
        values = codes
        self.scales = scales
        self.axis = axis
        self.inner = inner
    }

    /// Quantizes `floats` (C order, `shape`) with one scale per index along `axis`.
    init(_ floats: [Float], shape: [Int], axis: Int) {
        precondition(axis >= 0 && axis < shape.count && floats.count == shape.reduce(1, *))
        let channels = shape[axis]
        self.axis = axis
        inner = shape[(axis + 1)...].reduce(1, *)
        var peaks = [Float](repeating: 0, count: channels)
        for (i, w) in floats.enumerated() {
            let c = (i / inner) % channels
            peaks[c] = max(peaks[c], abs(w))
        }
        scales = peaks.map { $0 > 0 && $0.isFinite ? $0 / 127 : 1 }
        let scales = self.scales, inner = self.inner
        values = floats.enumerated().map { i, w in
            let q = (w / scales[(i / inner) % channels]).rounded()
            return Int8(max(-127, min(127, q.isNaN ? 0 : q)))
        }
    }

    /// The weights the runtime computes with.
    var dequantized: [Float] {
        let channels = scales.count
        return values.enumerated().map { i, q in Float(q) * scales[(i / inner) % channels] }
    }

    /// Signal-to-quantization-noise ratio in dB of `dequantized` against `original`: 10·log10(Σw² / Σ(w − ŵ)²);
    /// infinity when the codes are exact.
    static func sqnr(original: [Float], dequantized: [Float]) -> Double {
        var signal = 0.0, noise = 0.0
        for (w, v) in zip(original, dequantized) {
            signal += Double(w) * Double(w)
            noise += (Double(w) - Double(v)) * (Double(w) - Double(v))
        }
        if noise == 0 { return .infinity }
        return 10 * log10(signal / noise)
    }
}
