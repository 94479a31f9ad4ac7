import XCTest
@testable import Sparrow

/// Large convolutions run in bands of output rows (im2col and sgemm per band); results must equal a naive
/// convolution across band edges, for pointwise and kxk layers, with bias and ReLU, at 1 and 2 threads.
final class ConvBandingTests: XCTestCase {
    struct Case {
        var inputChannels: Int, outputChannels: Int, size: Int, kernel: Int, stride: Int, pad: Int
    }

    func naive(_ c: Case, _ x: [Float], _ w: [Float], _ b: [Float]) -> [Float] {
        let out = (c.size + 2 * c.pad - c.kernel) / c.stride + 1
        var y = [Float](repeating: 0, count: c.outputChannels * out * out)
        for o in 0..<c.outputChannels {
            for oy in 0..<out {
                for ox in 0..<out {
                    var sum = b[o]
                    for i in 0..<c.inputChannels {
                        for ky in 0..<c.kernel {
                            for kx in 0..<c.kernel {
                                let iy = oy * c.stride - c.pad + ky, ix = ox * c.stride - c.pad + kx
                                guard iy >= 0, iy < c.size, ix >= 0, ix < c.size else { continue }
                                sum += x[(i * c.size + iy) * c.size + ix] * w[((o * c.inputChannels + i) * c.kernel + ky) * c.kernel + kx]
                            }
                        }
                    }
                    y[(o * out + oy) * out + ox] = max(sum, 0)
                }
            }
        }
        return y
    }

    func testBandsMatchNaiveConvolution() throws {
        let cases = [
            Case(inputChannels: 8, outputChannels: 64, size: 96, kernel: 1, stride: 1, pad: 0),
            Case(inputChannels: 8, outputChannels: 16, size: 64, kernel: 3, stride: 1, pad: 1),
            Case(inputChannels: 3, outputChannels: 8, size: 67, kernel: 5, stride: 2, pad: 2),
        ]
        for c in cases {
            var g = ModelBuilder()
            let input = g.input("x", [.fixed(1), .fixed(c.inputChannels), .fixed(c.size), .fixed(c.size)])
            let w = g.constant("w", [c.outputChannels, c.inputChannels, c.kernel, c.kernel], seed: 7)
            let b = g.constant("b", [c.outputChannels], seed: 8)
            let y = g.value("y")
            g.node(.conv, "conv", [input, w, b], [y], [
                "pads": .ints([Int64](repeating: Int64(c.pad), count: 4)),
                "strides": .ints([Int64(c.stride), Int64(c.stride)]), "activation": .int(1)])
            g.outputs = [y]
            let model = try Model(bytes: g.encode())
            let xs = (0..<(c.inputChannels * c.size * c.size)).map { Float(($0 * 37) % 101) / 101 - 0.5 }
            let weights = model.graph.tensors[w].storage.map { ConstantDecoder.decodeToFloats($0, shape: [c.outputChannels, c.inputChannels, c.kernel, c.kernel], model: model) }!
            let bias = model.graph.tensors[b].storage.map { ConstantDecoder.decodeToFloats($0, shape: [c.outputChannels], model: model) }!
            let expected = naive(c, xs, weights, bias)
            for threads in [1, 2] {
                let session = try Session(model: model, threads: threads)
                let output = try session.run([Tensor(shape: [1, c.inputChannels, c.size, c.size], floats: xs)])[0].floats
                XCTAssertEqual(output.count, expected.count)
                let worst = zip(output, expected).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThan(worst, 1e-4, "\(c) threads \(threads)")
            }
        }
    }
}
