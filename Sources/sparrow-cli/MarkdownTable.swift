import Foundation

/// A GitHub-flavoured Markdown table whose columns are also padded, so that it reads well unrendered in a
/// terminal and pastes as is into an issue or a document.
struct MarkdownTable {
    let columns: [TextTable.Column]
    private(set) var rows: [[String]] = []

    init(_ columns: [TextTable.Column]) {
        self.columns = columns
    }

    /// Adds a row; missing cells are empty, extra cells are dropped.
    mutating func append(_ cells: [String]) {
        rows.append((0..<columns.count).map { $0 < cells.count ? MarkdownTable.escape(cells[$0]) : "" })
    }

    /// The header, the alignment row and the rows.
    func render() -> [String] {
        var widths = columns.map { Swift.max($0.title.count, 3) }
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = Swift.max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            let padded = zip(zip(cells, widths), columns).map { pair, column -> String in
                let (cell, width) = pair
                let padding = String(repeating: " ", count: width - cell.count)
                return column.alignment == .left ? cell + padding : padding + cell
            }
            return "| " + padded.joined(separator: " | ") + " |"
        }
        // Dashes fill the padding too, so that the rule lines up with the cells; a colon marks right alignment.
        let rule = zip(widths, columns).map { width, column in
            column.alignment == .left ? String(repeating: "-", count: width + 2)
                : String(repeating: "-", count: width + 1) + ":"
        }
        return [line(columns.map(\.title)), "|" + rule.joined(separator: "|") + "|"] + rows.map(line)
    }

    /// A `|` inside a cell would end it.
    private static func escape(_ cell: String) -> String {
        cell.replacingOccurrences(of: "|", with: "\\|")
    }
}
