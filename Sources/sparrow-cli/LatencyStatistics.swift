/// Summary of timed runs, in milliseconds.
struct LatencyStatistics: Equatable {
    let median: Double
    let p90: Double
    let p99: Double
    let min: Double
    let max: Double
    let mean: Double
    /// Population standard deviation (numpy's `np.std`, ddof 0).
    let standardDeviation: Double

    /// `nil` for no samples.
    init?(_ samples: [Double]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        median = LatencyStatistics.percentile(50, ofSorted: sorted)
        p90 = LatencyStatistics.percentile(90, ofSorted: sorted)
        p99 = LatencyStatistics.percentile(99, ofSorted: sorted)
        min = sorted.first!
        max = sorted.last!
        let mean = sorted.reduce(0, +) / Double(sorted.count)
        self.mean = mean
        standardDeviation = (sorted.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(sorted.count)).squareRoot()
    }

    /// The `p`-th percentile of ascending samples, interpolating linearly between the two nearest ranks (numpy's
    /// default), so that the median of an even count is the mean of the middle two.
    static func percentile(_ p: Double, ofSorted sorted: [Double]) -> Double {
        guard sorted.count > 1 else { return sorted.first ?? 0 }
        let rank = Swift.min(Swift.max(p, 0), 100) / 100 * Double(sorted.count - 1)
        let lower = Int(rank.rounded(.down))
        let upper = Swift.min(lower + 1, sorted.count - 1)
        let fraction = rank - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }

    /// `median 1.234 ms  p90 1.456 ms  min 1.200 ms  mean 1.250 ms`
    var line: String {
        "median \(Formatting.milliseconds(median)) ms  p90 \(Formatting.milliseconds(p90)) ms  "
            + "min \(Formatting.milliseconds(min)) ms  mean \(Formatting.milliseconds(mean)) ms"
    }
}
