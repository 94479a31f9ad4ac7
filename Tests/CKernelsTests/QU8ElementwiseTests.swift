import CKernels
import XCTest

/// Element-wise uint8 kernels: quantize and dequantize at the graph boundaries, addition. The references against Swift
/// transcriptions of the header's formulas, every variant against the reference bit for bit, over every count up
/// to a few vectors with the buffers against guard pages.
final class QU8ElementwiseTests: XCTestCase {
    /// The header's clamp and rounding (the second half of the requantization), in Swift.
    static func clampRound(_ value: Float, zeroPoint: UInt8, min qmin: UInt8 = 0, max qmax: UInt8 = 255) -> UInt8 {
        let lo = Float(Int(qmin) - Int(zeroPoint)), hi = Float(Int(qmax) - Int(zeroPoint))
        var v = value
        v = v > lo ? v : lo
        v = v < hi ? v : hi
        return UInt8(Int(v.rounded(.toNearestOrEven)) + Int(zeroPoint))
    }

    // MARK: - Quantize and dequantize

    static func quantize(_ fn: spw_f32_qu8_cvt_ukernel_fn, _ input: [Float], scale: Float, zeroPoint: UInt8,
                         atEnd: Bool = true) -> [UInt8] {
        var params = spw_qu8_cvt_params(count: input.count, scale: scale, zero_point: zeroPoint)
        let x = GuardedFloats(input, atEnd: atEnd)
        let y = GuardedBytes([UInt8](repeating: 0xA5, count: input.count), atEnd: atEnd)
        fn(&params, x.pointer, y.pointer)
        return y.array
    }

    static func dequantize(_ fn: spw_qu8_f32_cvt_ukernel_fn, _ input: [UInt8], scale: Float, zeroPoint: UInt8,
                           atEnd: Bool = true) -> [UInt32] {
        var params = spw_qu8_cvt_params(count: input.count, scale: scale, zero_point: zeroPoint)
        let x = GuardedBytes(input, atEnd: atEnd)
        let y = GuardedFloats([Float](repeating: -7777.25, count: input.count), atEnd: atEnd)
        fn(&params, x.pointer, y.pointer)
        return y.array.map { $0.bitPattern }
    }

    static var quantizeReference: spw_f32_qu8_cvt_ukernel_fn {
        KernelRegistry.reference(of: SPW_OP_F32_QU8_CVT).fn.f32_qu8_cvt!
    }
    static var dequantizeReference: spw_qu8_f32_cvt_ukernel_fn {
        KernelRegistry.reference(of: SPW_OP_QU8_F32_CVT).fn.qu8_f32_cvt!
    }

    /// Finite values of every magnitude, ties of the rounding at scales 1 and 0.5, values whose quotient by
    /// `scale` lands on or next to a tie (where dividing and multiplying by 1/scale round differently), and
    /// infinities and NaN.
    static func quantizeInputs(_ rng: inout SplitMix64, count: Int, scale: Float) -> [Float] {
        (0..<count).map { i in
            switch i % 6 {
            case 5:
                let tie = (Float(rng.int(-260...260)) + 0.5) * scale
                return [tie, tie.nextUp, tie.nextDown][rng.int(0...2)]
            case 0: return Float(rng.int(-1200...1200)) / 4  // multiples of 0.25: ties at scale 1 and 0.5
            case 1: return rng.nextSignedUnitFloat() * 300
            case 2: return Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))  // any float, NaN included
            case 3: return [Float.infinity, -.infinity, .nan, 0, -0.0, 1e30, -1e30, .leastNonzeroMagnitude][i / 6 % 8]
            default: return rng.nextSignedUnitFloat()
            }
        }
    }

    func testQuantizeReferenceMatchesDefinition() {
        var rng = SplitMix64(seed: 200)
        for (scale, zeroPoint) in [(Float(1), UInt8(128)), (0.5, 0), (0.5, 255), (0.0235, 3), (1e-3, 100), (7, 17)] {
            let input = Self.quantizeInputs(&rng, count: 5000, scale: scale)
            let expected = input.map { Self.clampRound($0 / scale, zeroPoint: zeroPoint) }
            XCTAssertEqual(Self.quantize(Self.quantizeReference, input, scale: scale, zeroPoint: zeroPoint), expected,
                           "scale \(scale) zero point \(zeroPoint)")
        }
        // Hand-worked: ties to even, saturation, NaN to 0.
        let input: [Float] = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 127.5, 126.5, -128.5, 1e9, -1e9, .infinity, .nan]
        XCTAssertEqual(Self.quantize(Self.quantizeReference, input, scale: 1, zeroPoint: 128),
                       [128, 130, 130, 128, 126, 126, 255, 254, 0, 255, 0, 255, 0])
    }

    func testDequantizeReferenceMatchesDefinition() {
        let all = (0...255).map { UInt8($0) }
        for (scale, zeroPoint) in [(Float(1), UInt8(128)), (0.0235, 0), (0.1, 255), (3.7e-5, 77)] {
            let expected = all.map { (Float(Int($0) - Int(zeroPoint)) * scale).bitPattern }
            XCTAssertEqual(Self.dequantize(Self.dequantizeReference, all, scale: scale, zeroPoint: zeroPoint), expected)
        }
    }

    /// Every count up to 100 and a long one, buffers at both ends of their pages; every byte value for the
    /// dequantization.
    func testConversionVariantsMatchReference() {
        var rng = SplitMix64(seed: 201)
        let quantizers = KernelRegistry.testableVariants(of: SPW_OP_F32_QU8_CVT)
        let dequantizers = KernelRegistry.testableVariants(of: SPW_OP_QU8_F32_CVT)
        for count in Array(0...100) + [1000, 4099] {
            let scale = [Float(1), 0.5, 0.0235, 13, 0.1, 0.0039215689][count % 6]
            let zeroPoint = [UInt8(0), 255, 128, UInt8(count % 256)][count / 4 % 4]
            let floats = Self.quantizeInputs(&rng, count: count, scale: scale)
            let bytes = count == 256 ? (0...255).map { UInt8($0) } : rng.bytes(count)
            let q = Self.quantize(Self.quantizeReference, floats, scale: scale, zeroPoint: zeroPoint)
            let d = Self.dequantize(Self.dequantizeReference, bytes, scale: scale, zeroPoint: zeroPoint)
            for atEnd in [true, false] {
                for variant in quantizers {
                    let actual = Self.quantize(variant.fn.f32_qu8_cvt!, floats, scale: scale, zeroPoint: zeroPoint,
                                               atEnd: atEnd)
                    if actual != q {
                        let i = actual.indices.first { actual[$0] != q[$0] } ?? 0
                        return XCTFail("\(KernelRegistry.name(variant)) count \(count): element \(i) of \(floats[i]) "
                            + "/ \(scale) + \(zeroPoint): got \(actual[i]), expected \(q[i])")
                    }
                }
                for variant in dequantizers {
                    let actual = Self.dequantize(variant.fn.qu8_f32_cvt!, bytes, scale: scale, zeroPoint: zeroPoint,
                                                 atEnd: atEnd)
                    if actual != d { return XCTFail("\(KernelRegistry.name(variant)) count \(count)") }
                }
            }
        }
        // The dispatching entry points.
        let floats = Self.quantizeInputs(&rng, count: 77, scale: 0.1), bytes = rng.bytes(77)
        XCTAssertEqual(Self.quantize({ spw_f32_qu8_cvt($0, $1, $2) }, floats, scale: 0.1, zeroPoint: 9),
                       Self.quantize(Self.quantizeReference, floats, scale: 0.1, zeroPoint: 9))
        XCTAssertEqual(Self.dequantize({ spw_qu8_f32_cvt($0, $1, $2) }, bytes, scale: 0.1, zeroPoint: 9),
                       Self.dequantize(Self.dequantizeReference, bytes, scale: 0.1, zeroPoint: 9))
    }

    // MARK: - Addition

    static func add(_ fn: spw_qu8_add_ukernel_fn, _ params: spw_qu8_add_params, _ a: [UInt8], _ b: [UInt8],
                    atEnd: Bool = true) -> [UInt8] {
        var p = params
        p.count = a.count
        let x = GuardedBytes(a, atEnd: atEnd), y = GuardedBytes(b, atEnd: atEnd)
        let out = GuardedBytes([UInt8](repeating: 0xA5, count: a.count), atEnd: atEnd)
        fn(&p, x.pointer, y.pointer, out.pointer)
        return out.array
    }

    /// The header's formula in Swift Float arithmetic (IEEE, never fused).
    static func naiveAdd(_ p: spw_qu8_add_params, _ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        zip(a, b).map { x, y in
            let va = Float(Int(x) - Int(p.a_zero_point)) * p.a_multiplier
            let vb = Float(Int(y) - Int(p.b_zero_point)) * p.b_multiplier
            return clampRound(va + vb, zeroPoint: p.output_zero_point, min: p.output_min, max: p.output_max)
        }
    }

    /// "" when equal, else where and how `actual` first differs (not the whole arrays: they hold 65536 elements).
    static func difference(_ actual: [UInt8], _ expected: [UInt8]) -> String {
        guard actual.count == expected.count else { return "count \(actual.count) != \(expected.count)" }
        guard let i = actual.indices.first(where: { actual[$0] != expected[$0] }) else { return "" }
        return "element \(i): got \(actual[i]), expected \(expected[i])"
    }

    static var addReference: spw_qu8_add_ukernel_fn { KernelRegistry.reference(of: SPW_OP_QU8_ADD).fn.qu8_add! }

    /// Multipliers that put sums on rounding ties (0.5, 0.25), decimal ones whose sums land next to ties (where
    /// a fused multiply-add would round differently: several hundred of the 65536 pairs), typical ones, ones that
    /// saturate, zero points at both ends, a ReLU clamp.
    static let addParams: [spw_qu8_add_params] = [
        spw_qu8_add_params(count: 0, a_multiplier: 0.1, b_multiplier: 0.2, a_zero_point: 128, b_zero_point: 128,
                           output_zero_point: 128, output_min: 0, output_max: 255),
        spw_qu8_add_params(count: 0, a_multiplier: 0.3, b_multiplier: 0.7, a_zero_point: 0, b_zero_point: 255,
                           output_zero_point: 128, output_min: 0, output_max: 255),
        spw_qu8_add_params(count: 0, a_multiplier: 0.5, b_multiplier: 0.5, a_zero_point: 128, b_zero_point: 128,
                           output_zero_point: 128, output_min: 0, output_max: 255),
        spw_qu8_add_params(count: 0, a_multiplier: 0.8372, b_multiplier: 1.2131, a_zero_point: 0, b_zero_point: 255,
                           output_zero_point: 7, output_min: 0, output_max: 255),
        spw_qu8_add_params(count: 0, a_multiplier: 0.25, b_multiplier: 1.75, a_zero_point: 255, b_zero_point: 0,
                           output_zero_point: 255, output_min: 0, output_max: 255),
        spw_qu8_add_params(count: 0, a_multiplier: 37, b_multiplier: 0.001, a_zero_point: 3, b_zero_point: 77,
                           output_zero_point: 0, output_min: 0, output_max: 255),
        spw_qu8_add_params(count: 0, a_multiplier: 0.3333333, b_multiplier: 0.6666667, a_zero_point: 100,
                           b_zero_point: 30, output_zero_point: 64, output_min: 64, output_max: 255),
    ]

    /// All 256 x 256 pairs in one call (a = i / 256, b = i % 256) for each parameter set.
    static let allPairs: ([UInt8], [UInt8]) = (
        (0..<65536).map { UInt8($0 >> 8) }, (0..<65536).map { UInt8($0 & 255) }
    )

    func testAddReferenceMatchesDefinition() {
        let (a, b) = Self.allPairs
        for p in Self.addParams {
            XCTAssertEqual(Self.difference(Self.add(Self.addReference, p, a, b), Self.naiveAdd(p, a, b)), "", "\(p)")
        }
        // Hand-worked ties: (a - 128) * 0.5 + (b - 128) * 0.5 = 0.5, 1.5, 2.5, -0.5 round to 0, 2, 2, 0.
        let p = Self.addParams[2]
        XCTAssertEqual(Self.add(Self.addReference, p, [129, 130, 131, 127], [128, 129, 130, 128]), [128, 130, 130, 128])
    }

    /// All pairs for each parameter set, every count up to 40, both ends of the pages, and in place (output = a,
    /// output = b).
    func testAddVariantsMatchReference() {
        var rng = SplitMix64(seed: 202)
        let variants = KernelRegistry.testableVariants(of: SPW_OP_QU8_ADD)
        let (a, b) = Self.allPairs
        for p in Self.addParams {
            let expected = Self.add(Self.addReference, p, a, b)
            for variant in variants {
                XCTAssertEqual(Self.difference(Self.add(variant.fn.qu8_add!, p, a, b), expected), "",
                               "\(KernelRegistry.name(variant)) \(p)")
            }
        }
        for count in 0...40 {
            let p = Self.addParams[count % Self.addParams.count]
            let x = rng.bytes(count), y = rng.bytes(count)
            let expected = Self.add(Self.addReference, p, x, y)
            for variant in variants {
                for atEnd in [true, false] {
                    XCTAssertEqual(Self.add(variant.fn.qu8_add!, p, x, y, atEnd: atEnd), expected,
                                   "\(KernelRegistry.name(variant)) count \(count)")
                }
                var params = p
                params.count = count
                var inPlaceA = x, inPlaceB = y
                let fn = variant.fn.qu8_add!
                inPlaceA.withUnsafeMutableBufferPointer { pa in
                    y.withUnsafeBufferPointer { fn(&params, pa.baseAddress, $0.baseAddress, pa.baseAddress) }
                }
                inPlaceB.withUnsafeMutableBufferPointer { pb in
                    x.withUnsafeBufferPointer { fn(&params, $0.baseAddress, pb.baseAddress, pb.baseAddress) }
                }
                XCTAssertEqual(inPlaceA, expected, "\(KernelRegistry.name(variant)) in place of a, count \(count)")
                XCTAssertEqual(inPlaceB, expected, "\(KernelRegistry.name(variant)) in place of b, count \(count)")
            }
        }
        let x = rng.bytes(99), y = rng.bytes(99)
        XCTAssertEqual(Self.add({ spw_qu8_add($0, $1, $2, $3) }, Self.addParams[1], x, y),
                       Self.add(Self.addReference, Self.addParams[1], x, y))
    }
}
