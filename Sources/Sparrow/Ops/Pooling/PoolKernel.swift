/// MaxPool and AveragePool over NCHW planes. Outputs whose window lies inside the input row are computed
/// 32 or 8 at a time with the window folded in registers (stride 2 loads 16 floats per tap and keeps the even
/// lanes); outputs whose window touches the padding are computed one by one from the tap tables of
/// `PoolAxis`. Padding never enters the loops, so no padded copy of the input is made.
struct PoolKernel {
    let geometry: PoolGeometry
    let isMax: Bool
    /// Average pooling: 1 / divisor per output position (oh · OW + ow); `nil` for max pooling.
    let scales: HostFloatBuffer?
    let input: UnsafePointer<Float>
    let output: UnsafeMutablePointer<Float>

    /// A loop over all planes, split over the pool when the input is large enough to pay for it. The loop
    /// keeps the kernel (and its scale table) alive.
    func loop(_ pool: ThreadPool) -> ParallelLoop {
        ElementPartition.rowRangeLoop(pool, rows: geometry.planes, rowCost: geometry.inputHeight * geometry.inputWidth) {
            run(planes: $0)
        }
    }

    /// Runs planes `planes`, each independent (so that threads split by plane).
    func run(planes: Range<Int>) {
        // One specialised loop per (fold, stride): the choice is made once, not per tap.
        switch (isMax, geometry.width.stride) {
        case (true, 1): run(planes, MaxFold.self, ContiguousTaps.self)
        case (true, _): run(planes, MaxFold.self, EvenTaps.self)
        case (false, 1): run(planes, SumFold.self, ContiguousTaps.self)
        case (false, _): run(planes, SumFold.self, EvenTaps.self)
        }
    }

    private func run<Fold: PoolFold, Taps: PoolTaps>(_ planes: Range<Int>, _: Fold.Type, _: Taps.Type) {
        let g = geometry
        let width = g.width
        let inputPlane = g.inputHeight &* g.inputWidth
        let outputPlane = g.outputHeight &* g.outputWidth
        let scaleTable = scales.map { UnsafePointer($0.pointer) }
        // PoolAxis leaves the vector range empty for strides above 2.
        let tapStep = width.dilation
        let kernelWidth = width.kernel
        for plane in planes {
            let source = input + plane &* inputPlane
            let target = output + plane &* outputPlane
            for oh in 0..<g.outputHeight {
                let row = target + oh &* g.outputWidth
                let firstRow = g.height.firstTap[oh]
                let endRow = g.height.endTap[oh]
                let rowScales = scaleTable.map { $0 + oh &* g.outputWidth }
                let rowStride = g.height.dilation &* g.inputWidth
                let firstInputRow = source + g.height.position(output: oh, tap: firstRow) &* g.inputWidth

                // One output whose window may reach into the padding.
                @inline(__always) func single(_ ow: Int) {
                    var accumulator = Fold.initial
                    var inputRow = firstInputRow
                    for _ in firstRow..<endRow {
                        for kw in width.firstTap[ow]..<width.endTap[ow] {
                            accumulator = Fold.fold(accumulator, inputRow[width.position(output: ow, tap: kw)])
                        }
                        inputRow += rowStride
                    }
                    row[ow] = rowScales.map { accumulator * $0[ow] } ?? accumulator
                }

                // Eight outputs starting at ow · stride − padBegin, whose window lies inside the input row.
                @inline(__always) func block(_ ow: Int, _ count: Int) {
                    var a0 = SIMD8<Float>(repeating: Fold.initial)
                    var a1 = a0, a2 = a0, a3 = a0
                    var inputRow = firstInputRow + width.position(output: ow, tap: 0)
                    for _ in firstRow..<endRow {
                        var tap = inputRow
                        for _ in 0..<kernelWidth {
                            a0 = Fold.fold(a0, Taps.load(tap))
                            if count == 4 {
                                a1 = Fold.fold(a1, Taps.load(tap + 8 &* Taps.stride))
                                a2 = Fold.fold(a2, Taps.load(tap + 16 &* Taps.stride))
                                a3 = Fold.fold(a3, Taps.load(tap + 24 &* Taps.stride))
                            }
                            tap += tapStep
                        }
                        inputRow += rowStride
                    }
                    if let rowScales {
                        a0 *= VectorMemory.load(rowScales + ow)
                        if count == 4 {
                            a1 *= VectorMemory.load(rowScales + ow + 8)
                            a2 *= VectorMemory.load(rowScales + ow + 16)
                            a3 *= VectorMemory.load(rowScales + ow + 24)
                        }
                    }
                    VectorMemory.store(a0, to: row + ow)
                    if count == 4 {
                        VectorMemory.store(a1, to: row + ow + 8)
                        VectorMemory.store(a2, to: row + ow + 16)
                        VectorMemory.store(a3, to: row + ow + 24)
                    }
                }

                var ow = 0
                while ow < width.vectorStart {
                    single(ow)
                    ow += 1
                }
                while ow + 32 <= width.vectorEnd {
                    block(ow, 4)
                    ow += 32
                }
                while ow + 8 <= width.vectorEnd {
                    block(ow, 1)
                    ow += 8
                }
                while ow < g.outputWidth {
                    single(ow)
                    ow += 1
                }
            }
        }
    }
}

/// How a pooling window combines its taps.
protocol PoolFold {
    static var initial: Float { get }
    static func fold(_ accumulator: Float, _ x: Float) -> Float
    static func fold(_ accumulator: SIMD8<Float>, _ x: SIMD8<Float>) -> SIMD8<Float>
}

/// Maximum; NaN taps are skipped (the comparison is false), as in ONNX Runtime's `if (x > y) y = x`.
enum MaxFold: PoolFold {
    static var initial: Float { -.infinity }
    @inline(__always) static func fold(_ accumulator: Float, _ x: Float) -> Float { x > accumulator ? x : accumulator }
    @inline(__always) static func fold(_ accumulator: SIMD8<Float>, _ x: SIMD8<Float>) -> SIMD8<Float> {
        accumulator.replacing(with: x, where: x .> accumulator)
    }
}

/// Sum (scaled by 1 / divisor afterwards).
enum SumFold: PoolFold {
    static var initial: Float { 0 }
    @inline(__always) static func fold(_ accumulator: Float, _ x: Float) -> Float { accumulator + x }
    @inline(__always) static func fold(_ accumulator: SIMD8<Float>, _ x: SIMD8<Float>) -> SIMD8<Float> { accumulator + x }
}

/// How eight neighbouring outputs read one tap: contiguous floats (stride 1) or every other float (stride 2).
protocol PoolTaps {
    static var stride: Int { get }
    static func load(_ pointer: UnsafePointer<Float>) -> SIMD8<Float>
}

enum ContiguousTaps: PoolTaps {
    static var stride: Int { 1 }
    @inline(__always) static func load(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> { VectorMemory.load(pointer) }
}

enum EvenTaps: PoolTaps {
    static var stride: Int { 2 }
    @inline(__always) static func load(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> {
        VectorMemory.load(pointer, as: SIMD16<Float>.self).evenHalf
    }
}
