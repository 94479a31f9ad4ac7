import Foundation

/// Number formats shared by the subcommands.
enum Formatting {
    /// Three significant digits with a K/M/G/T suffix (powers of 1000): `950`, `12.3K`, `1.82G`.
    static func compact(_ value: Int) -> String {
        let magnitude = Double(value.magnitude)
        let sign = value < 0 ? "-" : ""
        guard magnitude >= 1000 else { return String(value) }
        let suffixes = ["K", "M", "G", "T", "P"]
        var scaled = magnitude / 1000
        var index = 0
        // 999.5 and up would print as "1000": move to the next suffix instead.
        while index + 1 < suffixes.count, scaled >= 999.5 {
            scaled /= 1000
            index += 1
        }
        return sign + threeDigits(scaled) + suffixes[index]
    }

    /// Bytes with a binary unit: `512 B`, `12.3 KiB`, `4.50 MiB`.
    static func bytes(_ value: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var scaled = Double(value)
        var index = 0
        while index + 1 < units.count, scaled >= 1024 {
            scaled /= 1024
            index += 1
        }
        return index == 0 ? "\(value) B" : threeDigits(scaled) + " " + units[index]
    }

    /// Thousands separated by commas: `1,234,567`.
    static func grouped(_ value: Int) -> String {
        let digits = Array(String(value.magnitude))
        var text = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { text.append(",") }
            text.append(digit)
        }
        return (value < 0 ? "-" : "") + text
    }

    /// Milliseconds with three decimals.
    static func milliseconds(_ value: Double) -> String { String(format: "%.3f", value) }

    /// A percentage with one decimal.
    static func percent(_ part: Double, of total: Double) -> String {
        String(format: "%.1f%%", total > 0 ? 100 * part / total : 0)
    }

    /// An element value for previews: six significant digits.
    static func value(_ value: Float) -> String { String(format: "%.6g", Double(value)) }

    private static func threeDigits(_ value: Double) -> String {
        if value >= 99.95 { return String(format: "%.0f", value) }
        if value >= 9.995 { return String(format: "%.1f", value) }
        return String(format: "%.2f", value)
    }
}
