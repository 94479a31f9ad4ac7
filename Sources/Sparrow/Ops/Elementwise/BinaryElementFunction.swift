/// A float function of two operands in vector and scalar form. Both forms must agree bit for bit, so that
/// an element gets the same result in a loop body and in its scalar tail.
protocol BinaryElementFunction {
    static func vector(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float>
    static func scalar(_ a: Float, _ b: Float) -> Float
}

/// Inner loops of binary elementwise kernels: 16 lanes per step, scalar tail.
enum BinaryLoops {
    /// `out[i] = F(a[i·aStride], b[i·bStride])` for `i < count`, strides 0 (splat) or 1.
    @inline(__always)
    static func run<F: BinaryElementFunction>(_ function: F.Type, _ a: UnsafePointer<Float>, _ aStride: Int,
                                              _ b: UnsafePointer<Float>, _ bStride: Int,
                                              _ out: UnsafeMutablePointer<Float>, _ count: Int) {
        var i = 0
        switch (aStride, bStride) {
        case (1, 1):
            while i + 16 <= count {
                VectorMemory.store(F.vector(VectorMemory.load(a + i), VectorMemory.load(b + i)), to: out + i)
                i += 16
            }
            while i < count {
                out[i] = F.scalar(a[i], b[i])
                i += 1
            }
        case (0, 1):
            let scalarA = a.pointee
            let splatA = SIMD16<Float>(repeating: scalarA)
            while i + 16 <= count {
                VectorMemory.store(F.vector(splatA, VectorMemory.load(b + i)), to: out + i)
                i += 16
            }
            while i < count {
                out[i] = F.scalar(scalarA, b[i])
                i += 1
            }
        case (1, 0):
            let scalarB = b.pointee
            let splatB = SIMD16<Float>(repeating: scalarB)
            while i + 16 <= count {
                VectorMemory.store(F.vector(VectorMemory.load(a + i), splatB), to: out + i)
                i += 16
            }
            while i < count {
                out[i] = F.scalar(a[i], scalarB)
                i += 1
            }
        default:
            let value = F.scalar(a.pointee, b.pointee)
            while i < count {
                out[i] = value
                i += 1
            }
        }
    }
}
