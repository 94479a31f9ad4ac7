/// A tensor's lifetime in steps (inclusive) and size, for arena placement.
struct ArenaInterval {
    let tensor: Int
    let first: Int
    let last: Int
    let bytes: Int
}

/// Static memory plan: every intermediate gets an offset in one arena; tensors whose lifetimes do not overlap
/// share bytes. Greedy by size (largest first, lowest free offset), the scheme TFLite's arena planner uses.
struct ArenaLayout {
    let offsets: [Int: Int]
    let size: Int

    static let alignment = 64

    static func assign(_ intervals: [ArenaInterval]) -> ArenaLayout {
        let order = intervals.sorted { ($0.bytes, $1.tensor) > ($1.bytes, $0.tensor) }
        var placed: [(offset: Int, end: Int, first: Int, last: Int)] = []
        var offsets: [Int: Int] = [:]
        var size = 0
        for interval in order {
            let bytes = (max(interval.bytes, 1) + alignment - 1) / alignment * alignment
            let conflicts = placed
                .filter { $0.first <= interval.last && interval.first <= $0.last }
                .sorted { $0.offset < $1.offset }
            var offset = 0
            for other in conflicts {
                if offset + bytes <= other.offset { break }
                offset = max(offset, other.end)
            }
            placed.append((offset, offset + bytes, interval.first, interval.last))
            offsets[interval.tensor] = offset
            size = max(size, offset + bytes)
        }
        return ArenaLayout(offsets: offsets, size: size)
    }
}
