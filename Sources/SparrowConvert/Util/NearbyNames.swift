/// Names close to a misspelt one, for messages such as "unknown layer 'conv_12'; nearby: conv_1_node, ...".
enum NearbyNames {
    /// Up to `limit` of `candidates` that contain `name` (or it them) or are within a small edit distance of
    /// it, closest first; ties keep the order of `candidates`.
    static func near(_ name: String, in candidates: [String], limit: Int = 5) -> [String] {
        let target = Array(name.lowercased())
        let allowed = max(2, target.count / 3)
        var scored: [(distance: Int, index: Int, name: String)] = []
        for (index, candidate) in candidates.enumerated() {
            let lowered = candidate.lowercased()
            let distance = editDistance(target, Array(lowered))
            let contains = !target.isEmpty && (lowered.contains(String(target)) || String(target).contains(lowered))
            guard distance <= allowed || contains else { continue }
            scored.append((contains ? min(distance, 1) : distance, index, candidate))
        }
        scored.sort { ($0.distance, $0.index) < ($1.distance, $1.index) }
        return scored.prefix(limit).map(\.name)
    }

    /// Levenshtein distance (insertions, deletions, substitutions of characters).
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
