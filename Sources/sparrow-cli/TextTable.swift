/// Rows of text in aligned columns, for the tables of `inspect` and `run --profile`.
struct TextTable {
    enum Alignment {
        case left
        case right
    }

    struct Column {
        let title: String
        let alignment: Alignment

        init(_ title: String, _ alignment: Alignment = .left) {
            self.title = title
            self.alignment = alignment
        }
    }

    let columns: [Column]
    private(set) var rows: [[String]] = []

    init(_ columns: [Column]) {
        self.columns = columns
    }

    /// Adds a row; missing cells are empty, extra cells are dropped.
    mutating func append(_ cells: [String]) {
        rows.append((0..<columns.count).map { $0 < cells.count ? cells[$0] : "" })
    }

    /// The header, a rule and the rows, columns two spaces apart, without trailing spaces.
    func render() -> [String] {
        var widths = columns.map(\.title.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            let padded = zip(zip(cells, widths), columns).map { pair, column -> String in
                let (cell, width) = pair
                let padding = String(repeating: " ", count: width - cell.count)
                return column.alignment == .left ? cell + padding : padding + cell
            }
            var text = padded.joined(separator: "  ")
            while text.last == " " { text.removeLast() }
            return text
        }
        let rule = widths.map { String(repeating: "-", count: $0) }
        return [line(columns.map(\.title)), line(rule)] + rows.map(line)
    }
}
