internal import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The SpMM contract of `spw_f32_spmm_ukernel_fn` (CKernels/include/sparrow_kernels.h) in portable Swift SIMD:
/// `SIMD8<Float>` lowers to NEON on arm64 and SSE/AVX on x86-64, so platforms without a C SIMD variant still get
/// vector code. Same loop order as the C variants: blocks of 32 pixels, every row, every nonzero; 8- and 1-pixel
/// tails. Reads only `input[offsets[j] + p]` for `p < pixels`.
enum SwiftSpMM {
    /// As a C function pointer, interchangeable with the registry's variants.
    static let function: spw_f32_spmm_ukernel_fn = { params, input, rowPointers, offsets, values, bias, output in
        SwiftSpMM.run(params!.pointee, input!, rowPointers!, offsets!, values!, bias, output!)
    }

    @inline(__always)
    static func run(_ p: spw_f32_spmm_params, _ input: UnsafePointer<Float>, _ rowPointers: UnsafePointer<UInt32>,
                    _ offsets: UnsafePointer<UInt32>, _ values: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                    _ output: UnsafeMutablePointer<Float>) {
        let rows = p.rows, pixels = p.pixels, stride = p.output_stride
        let low = SIMD8<Float>(repeating: p.output_min), high = SIMD8<Float>(repeating: p.output_max)
        let residual = p.residual, residualStride = p.residual_stride
        var start = 0
        while start + 32 <= pixels {
            for r in 0..<rows {
                let b = SIMD8<Float>(repeating: bias?[r] ?? 0)
                var a0 = b, a1 = b, a2 = b, a3 = b
                var j = Int(rowPointers[r])
                let end = Int(rowPointers[r + 1])
                while j < end {
                    let w = SIMD8<Float>(repeating: values[j])
                    let x = input + Int(offsets[j]) + start
                    // `a + w * x`, not `addingProduct`: a lane-wise fused multiply-add becomes eight libm
                    // `fmaf` calls wherever the compile target lacks FMA (measured 25x slower on x86-64).
                    a0 += w * load(x)
                    a1 += w * load(x + 8)
                    a2 += w * load(x + 16)
                    a3 += w * load(x + 24)
                    j += 1
                }
                if let residual {
                    let z = residual + r * residualStride + start
                    a0 += load(z)
                    a1 += load(z + 8)
                    a2 += load(z + 16)
                    a3 += load(z + 24)
                }
                let y = output + r * stride + start
                store(clamp(a0, low, high), y)
                store(clamp(a1, low, high), y + 8)
                store(clamp(a2, low, high), y + 16)
                store(clamp(a3, low, high), y + 24)
            }
            start += 32
        }
        while start + 8 <= pixels {
            for r in 0..<rows {
                var a = SIMD8<Float>(repeating: bias?[r] ?? 0)
                var j = Int(rowPointers[r])
                let end = Int(rowPointers[r + 1])
                while j < end {
                    a += SIMD8<Float>(repeating: values[j]) * load(input + Int(offsets[j]) + start)
                    j += 1
                }
                if let residual { a += load(residual + r * residualStride + start) }
                store(clamp(a, low, high), output + r * stride + start)
            }
            start += 8
        }
        while start < pixels {
            for r in 0..<rows {
                var a = bias?[r] ?? 0
                var j = Int(rowPointers[r])
                let end = Int(rowPointers[r + 1])
                while j < end {
                    a += values[j] * input[Int(offsets[j]) + start]
                    j += 1
                }
                if let residual { a += residual[r * residualStride + start] }
                output[r * stride + start] = clampScalar(a, p.output_min, p.output_max)
            }
            start += 1
        }
    }

    @inline(__always)
    private static func load(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    private static func store(_ value: SIMD8<Float>, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD8<Float>.self)
    }

    /// max(min(x, high), low) that keeps NaN, like the C kernels' clamp.
    @inline(__always)
    private static func clamp(_ x: SIMD8<Float>, _ low: SIMD8<Float>, _ high: SIMD8<Float>) -> SIMD8<Float> {
        var v = x.replacing(with: high, where: x .> high)
        v.replace(with: low, where: v .< low)
        return v
    }

    @inline(__always)
    private static func clampScalar(_ x: Float, _ low: Float, _ high: Float) -> Float {
        x > high ? high : (x < low ? low : x)
    }
}

/// Which SpMM implementation the sparse operators call: the registry's best C variant for this CPU, or the
/// Swift SIMD variant where the registry has only the scalar reference (e.g. arm64 until NEON kernels land).
/// `SPARROW_SPMM=swift` or `=c` forces one, for benchmarks and tests.
enum SpMMSelection {
    static let function: spw_f32_spmm_ukernel_fn = {
        let config = spw_get_kernel_config().pointee
        let request = getenv("SPARROW_SPMM").map { String(cString: $0) }
        switch request {
        case "swift": return SwiftSpMM.function
        case "c": return config.f32_spmm!
        default: return config.isa == SPW_ISA_SCALAR ? SwiftSpMM.function : config.f32_spmm!
        }
    }()
}
