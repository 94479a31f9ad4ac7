import Sparrow

/// What `sparrow run` prints for an output when it does not write files: shape, first values and, for a
/// `[N, C]` output (scores of N samples over C classes), the argmax of every row.
enum OutputPreview {
    /// Lines describing one output.
    static func lines(name: String, tensor: Tensor, valueLimit: Int = 10, rowLimit: Int = 64) -> [String] {
        var lines = ["output '\(name)': \(tensor.dtype) \(InputShapes.format(tensor.shape))"]
        let count = tensor.count
        let shown = min(count, valueLimit)
        let values: [String]
        if tensor.dtype.isInteger {
            values = tensor.int64s.prefix(shown).map(String.init)
        } else {
            values = tensor.floats.prefix(shown).map(Formatting.value)
        }
        let label = count > shown ? "first \(shown) of \(count)" : "values"
        lines.append("  \(label): " + values.joined(separator: ", "))
        if tensor.shape.count == 2, tensor.shape[0] > 0, tensor.shape[1] > 1, !tensor.dtype.isInteger {
            let rows = tensor.shape[0]
            let classes = argmaxPerRow(tensor.floats, rows: rows, columns: tensor.shape[1])
            let listed = classes.prefix(rowLimit).map(String.init).joined(separator: " ")
            lines.append("  argmax per row (\(rows) row\(rows == 1 ? "" : "s")): " + listed
                + (rows > rowLimit ? " …" : ""))
        }
        return lines
    }

    /// Index of the largest value of each row of a row-major `rows × columns` matrix (the first on ties).
    static func argmaxPerRow(_ values: [Float], rows: Int, columns: Int) -> [Int] {
        guard columns > 0, values.count >= rows * columns else { return [] }
        return (0..<rows).map { row in
            var best = 0
            for column in 1..<columns where values[row * columns + column] > values[row * columns + best] {
                best = column
            }
            return best
        }
    }
}
