/// f32 bilinear interpolation over the last two axes of `[planes, inH, inW]`, with per-row and per-column
/// neighbour tables computed once at plan time.
struct BilinearResize {
    /// Neighbours and weight of one output coordinate along an axis; `outside` marks extrapolated positions.
    struct Tap {
        var lower: Int
        var upper: Int
        var weight: Float
        var outside: Bool
    }

    let planes: Int
    let inputHeight: Int
    let inputWidth: Int
    let rows: [Tap]
    let cols: [Tap]
    let extrapolation: Float

    /// Taps of an axis of `length` for the given input coordinates: clamping the coordinate into the axis is
    /// the same as ONNX's edge-padded neighbours.
    static func taps(_ coordinates: [Float], outside: [Bool], length: Int) -> [Tap] {
        zip(coordinates, outside).map { coordinate, isOutside in
            let last = Float(length - 1)
            let x = coordinate > 0 ? (coordinate < last ? coordinate : last) : 0
            let lower = Int(x.rounded(.down))
            return Tap(lower: lower, upper: min(lower + 1, length - 1), weight: x - Float(lower), outside: isOutside)
        }
    }

    func loop(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, pool: ThreadPool) -> ParallelLoop {
        let outputHeight = rows.count
        let outputWidth = cols.count
        let planeSize = inputHeight * inputWidth
        return LayoutRows.loop(planes * outputHeight, bytesPerRow: outputWidth * 4, pool: pool) { range in
            rows.withUnsafeBufferPointer { rowTaps in
                cols.withUnsafeBufferPointer { colTaps in
                    for row in range {
                        let plane = row / outputHeight
                        let rowTap = rowTaps[row - plane * outputHeight]
                        let destination = output + row * outputWidth
                        if rowTap.outside {
                            destination.update(repeating: extrapolation, count: outputWidth)
                            continue
                        }
                        let top = input + plane * planeSize + rowTap.lower * inputWidth
                        let bottom = input + plane * planeSize + rowTap.upper * inputWidth
                        let wy = rowTap.weight
                        for x in 0..<outputWidth {
                            let tap = colTaps[x]
                            let wx = tap.weight
                            let upper = top[tap.lower] + wx * (top[tap.upper] - top[tap.lower])
                            let lower = bottom[tap.lower] + wx * (bottom[tap.upper] - bottom[tap.lower])
                            destination[x] = tap.outside ? extrapolation : upper + wy * (lower - upper)
                        }
                    }
                }
            }
        }
    }
}
