import CKernels
import XCTest
@testable import Sparrow

/// The portable Swift SIMD SpMM against the C scalar reference, on odd sizes and edge cases (empty rows, a fully
/// dense row, a sliced call whose row pointers do not start at 0, NULL bias, clamps, tails of 1–31 pixels).
final class SwiftSpMMTests: XCTestCase {
    struct Random {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
    }

    func reference() throws -> spw_f32_spmm_ukernel_fn {
        var count = 0
        let registry = spw_kernel_registry(&count)!
        for i in 0..<count where registry[i].op == SPW_OP_F32_SPMM && registry[i].isa == SPW_ISA_SCALAR {
            return registry[i].fn.f32_spmm
        }
        throw XCTSkip("no scalar SpMM in the registry")
    }

    func testSwiftVariantMatchesScalarReference() throws {
        let scalar = try reference()
        var random = Random(state: 42)
        let clamps: [(Float, Float)] = [(-.infinity, .infinity), (0, .infinity), (0, 6)]
        for rows in [1, 3, 17] {
            for pixels in [1, 7, 8, 15, 31, 32, 33, 63, 64, 65, 100, 197] {
                for sparsity in [0.0, 0.5, 0.9, 1.0] {
                    for (clampIndex, clamp) in clamps.enumerated() {
                        let cols = 13, plane = pixels + 3
                        // A prefix of 5 entries belonging to earlier rows: the call starts at row_pointers[0] = 5.
                        var rowPointers: [UInt32] = [5], offsets: [UInt32] = Array(repeating: 0, count: 5)
                        var values: [Float] = Array(repeating: .nan, count: 5)
                        for row in 0..<rows {
                            for col in 0..<cols where row == 0 || random.next() >= sparsity {
                                offsets.append(UInt32(col * plane))
                                values.append(Float(random.next() - 0.5))
                            }
                            rowPointers.append(UInt32(values.count))
                        }
                        let input = (0..<(cols * plane)).map { _ in Float(random.next() * 2 - 1) }
                        let bias: [Float]? = clampIndex == 1 ? nil : (0..<rows).map { _ in Float(random.next() - 0.5) }
                        let stride = pixels + 2
                        var expected = [Float](repeating: -7, count: rows * stride)
                        var actual = expected
                        // Every other case adds a residual (its own stride), as a fused residual Add does.
                        let residualStride = pixels + 1
                        let residual = (0..<(rows * residualStride)).map { _ in Float(random.next() * 4 - 2) }
                        let withResidual = (pixels + clampIndex) % 2 == 0
                        var p = spw_f32_spmm_params(rows: rows, pixels: pixels, output_stride: stride,
                                                    output_min: clamp.0, output_max: clamp.1,
                                                    residual: nil, residual_stride: residualStride)
                        func call(_ f: spw_f32_spmm_ukernel_fn, _ out: inout [Float]) {
                            residual.withUnsafeBufferPointer { r in
                                p.residual = withResidual ? r.baseAddress : nil
                                input.withUnsafeBufferPointer { x in
                                    out.withUnsafeMutableBufferPointer { y in
                                        if let bias {
                                            bias.withUnsafeBufferPointer { f(&p, x.baseAddress, rowPointers, offsets, values, $0.baseAddress, y.baseAddress) }
                                        } else {
                                            f(&p, x.baseAddress, rowPointers, offsets, values, nil, y.baseAddress)
                                        }
                                    }
                                }
                                p.residual = nil
                            }
                        }
                        call(scalar, &expected)
                        call(SwiftSpMM.function, &actual)
                        for i in 0..<expected.count {
                            let tolerance = 1e-5 * max(1, abs(expected[i]))
                            XCTAssertEqual(actual[i], expected[i], accuracy: tolerance,
                                           "rows \(rows) pixels \(pixels) sparsity \(sparsity) clamp \(clamp) at \(i)")
                            if i % stride >= pixels { XCTAssertEqual(actual[i], -7, "wrote past the pixels") }
                        }
                    }
                }
            }
        }
    }
}
