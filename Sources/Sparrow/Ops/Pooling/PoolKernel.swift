/// MaxPool and AveragePool over NCHW planes. Each output row is built by folding, for every kernel tap
/// (kh, kw) inside the input, a strided run of one input row into the outputs whose tap is valid; with
/// stride 1 those runs are contiguous and vectorise. Padding never enters the loops, the tap tables of
/// `PoolAxis` exclude it, so no padded copy of the input is made.
struct PoolKernel {
    enum Mode {
        case max
        /// Average: output (oh, ow) is multiplied by `scales[oh · OW + ow]` = 1 / divisor.
        case average(scales: [Float])
    }

    let geometry: PoolGeometry
    let mode: Mode
    let input: UnsafePointer<Float>
    let output: UnsafeMutablePointer<Float>

    /// Runs planes `planes`, each independent (so that threads split by plane).
    func run(planes: Range<Int>) {
        let g = geometry
        let inputPlane = g.inputHeight * g.inputWidth
        let outputPlane = g.outputHeight * g.outputWidth
        let isMax: Bool
        if case .max = mode { isMax = true } else { isMax = false }
        for plane in planes {
            let source = input + plane * inputPlane
            let target = output + plane * outputPlane
            for oh in 0..<g.outputHeight {
                let row = target + oh * g.outputWidth
                row.update(repeating: isMax ? -.infinity : 0, count: g.outputWidth)
                for kh in g.height.firstTap[oh]..<g.height.endTap[oh] {
                    let inputRow = source + g.height.position(output: oh, tap: kh) * g.inputWidth
                    for kw in 0..<g.width.kernel {
                        let first = g.width.firstOutput[kw]
                        let count = g.width.endOutput[kw] - first
                        if count <= 0 { continue }
                        let start = inputRow + g.width.position(output: first, tap: kw)
                        if isMax {
                            PoolRows.max(row + first, start, count, stride: g.width.stride)
                        } else {
                            PoolRows.add(row + first, start, count, stride: g.width.stride)
                        }
                    }
                }
                if case .average(let scales) = mode {
                    let rowScales = oh * g.outputWidth
                    for ow in 0..<g.outputWidth { row[ow] *= scales[rowScales + ow] }
                }
            }
        }
    }

    /// Runs all planes, split over the pool when the input is large enough to pay for it.
    func run(_ pool: ThreadPool) {
        ElementPartition.forEachRowRange(pool, rows: geometry.planes, rowCost: geometry.inputHeight * geometry.inputWidth) {
            run(planes: $0)
        }
    }
}
