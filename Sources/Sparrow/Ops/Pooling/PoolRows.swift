/// Row primitives of the pooling kernels: fold one input row, read with a stride, into a run of outputs.
enum PoolRows {
    /// `out[i] = max(out[i], input[i·stride])` for `i < count`. NaN inputs are skipped (the comparison is
    /// false), as in ONNX Runtime's `if (x > y) y = x`.
    @inline(__always)
    static func max(_ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ count: Int, stride: Int) {
        var i = 0
        if stride == 1 {
            while i + 8 <= count {
                let current: SIMD8<Float> = VectorMemory.load(out + i)
                let x: SIMD8<Float> = VectorMemory.load(input + i)
                VectorMemory.store(current.replacing(with: x, where: x .> current), to: out + i)
                i += 8
            }
        }
        while i < count {
            let x = input[i * stride]
            if x > out[i] { out[i] = x }
            i += 1
        }
    }

    /// `out[i] += input[i·stride]` for `i < count`.
    @inline(__always)
    static func add(_ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ count: Int, stride: Int) {
        var i = 0
        if stride == 1 {
            while i + 8 <= count {
                let current: SIMD8<Float> = VectorMemory.load(out + i)
                let x: SIMD8<Float> = VectorMemory.load(input + i)
                VectorMemory.store(current + x, to: out + i)
                i += 8
            }
        }
        while i < count {
            out[i] += input[i * stride]
            i += 1
        }
    }
}
