/// Unaligned vector loads and stores on float buffers (arena tensors are 64-byte aligned, but row starts
/// inside them are not), and the partial loads that finish a loop with the same vector code as its body.
enum VectorMemory {
    @inline(__always)
    static func load<V: SIMD>(_ pointer: UnsafePointer<Float>, as type: V.Type = V.self) -> V where V.Scalar == Float {
        UnsafeRawPointer(pointer).loadUnaligned(as: V.self)
    }

    @inline(__always)
    static func store<V: SIMD>(_ vector: V, to pointer: UnsafeMutablePointer<Float>) where V.Scalar == Float {
        UnsafeMutableRawPointer(pointer).storeBytes(of: vector, as: V.self)
    }

    /// The first `count` (< 8) elements at `pointer`, zeros elsewhere.
    @inline(__always)
    static func loadPartial(_ pointer: UnsafePointer<Float>, count: Int) -> SIMD8<Float> {
        var vector = SIMD8<Float>()
        for lane in 0..<count { vector[lane] = pointer[lane] }
        return vector
    }

    /// Writes the first `count` (< 8) lanes of `vector`.
    @inline(__always)
    static func storePartial(_ vector: SIMD8<Float>, to pointer: UnsafeMutablePointer<Float>, count: Int) {
        for lane in 0..<count { pointer[lane] = vector[lane] }
    }
}
