import Sparrow

/// Top-1 accuracy of an [N, C] output against N integer labels (`sparrow run --labels`).
struct LabelAccuracy {
    let correct: Int
    let total: Int

    init(logits: Tensor, labels: Tensor) throws {
        guard logits.shape.count == 2 else {
            throw CLIError("--labels needs an [N, C] output, the first output is \(InputShapes.format(logits.shape))")
        }
        let rows = logits.shape[0], classes = logits.shape[1]
        let expected = labels.int64s
        guard expected.count == rows else {
            throw CLIError("--labels has \(expected.count) labels for \(rows) output rows")
        }
        let values = logits.floats
        var correct = 0
        for row in 0..<rows where classes > 0 {
            let scores = values[(row * classes)..<((row + 1) * classes)]
            let best = scores.indices.max { scores[$0] < scores[$1] }! - row * classes
            if best == Int(expected[row]) { correct += 1 }
        }
        self.correct = correct
        total = rows
    }

    var line: String {
        let percent = total == 0 ? 0 : 100 * Double(correct) / Double(total)
        return "top-1 accuracy: \(correct)/\(total) = " + String(format: "%.2f%%", percent)
    }
}
