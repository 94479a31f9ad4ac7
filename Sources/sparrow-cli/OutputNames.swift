/// File names for output tensors: `DIR/<output name>.npy`, with names made safe for any file system.
enum OutputNames {
    /// Replaces every character outside `[A-Za-z0-9._-]` by `_`; a name that would be empty or only dots (a
    /// path of its own) becomes underscores.
    static func sanitize(_ name: String) -> String {
        var result = String(String.UnicodeScalarView(name.unicodeScalars.map { scalar in
            switch scalar {
            case "A"..."Z", "a"..."z", "0"..."9", ".", "_", "-": return scalar
            default: return "_"
            }
        }))
        if result.isEmpty { result = "_" }
        if result.allSatisfy({ $0 == "." }) { result = String(repeating: "_", count: result.count) }
        return result
    }

    /// Sanitized, distinct file names (without extension) for the outputs in order: a name that collides with
    /// an earlier one gets `-2`, `-3`, … appended.
    static func fileNames(for names: [String]) -> [String] {
        var used = Set<String>()
        return names.map { name in
            let base = sanitize(name)
            var candidate = base
            var suffix = 2
            while used.contains(candidate) {
                candidate = "\(base)-\(suffix)"
                suffix += 1
            }
            used.insert(candidate)
            return candidate
        }
    }
}
