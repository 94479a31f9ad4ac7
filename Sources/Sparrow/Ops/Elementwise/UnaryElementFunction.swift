/// Parameters of a unary element function, fixed at plan time (LeakyRelu's slope, Clip's bounds, …).
struct UnaryParameters {
    var alpha: Float = 0
    var beta: Float = 0
    var gamma: Float = 0
    var delta: Float = 0
}

/// A float function of one operand, in vector form only: loop tails run the same vector code on a partly
/// filled vector, so that every element gets bit-identical results wherever it falls.
protocol UnaryElementFunction {
    static func vector(_ x: SIMD8<Float>, _ parameters: UnaryParameters) -> SIMD8<Float>
}

/// Inner loop of unary elementwise kernels.
enum UnaryLoops {
    /// `output[i] = F(input[i])` for `i < count`; `output` may equal `input` (in place).
    @inline(__always)
    static func run<F: UnaryElementFunction>(_ function: F.Type, _ input: UnsafePointer<Float>,
                                             _ output: UnsafeMutablePointer<Float>, _ count: Int,
                                             _ parameters: UnaryParameters) {
        var i = 0
        // Two independent vectors per step hide the latency of the longer polynomials.
        while i + 16 <= count {
            let first = F.vector(VectorMemory.load(input + i), parameters)
            let second = F.vector(VectorMemory.load(input + i + 8), parameters)
            VectorMemory.store(first, to: output + i)
            VectorMemory.store(second, to: output + i + 8)
            i += 16
        }
        if i + 8 <= count {
            VectorMemory.store(F.vector(VectorMemory.load(input + i), parameters), to: output + i)
            i += 8
        }
        if i < count {
            let rest = count - i
            VectorMemory.storePartial(F.vector(VectorMemory.loadPartial(input + i, count: rest), parameters),
                                      to: output + i, count: rest)
        }
    }
}
