/// SVG text, one element a line, attributes in the order given and every value escaped.
struct SVGWriter {
    private var lines: [String]

    init(width: Double, height: Double) {
        let (w, h) = (String(Int(width)), String(Int(height)))
        lines = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\" "
                 + "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">"]
    }

    mutating func element(_ name: String, _ attributes: KeyValuePairs<String, String> = [:], text: String? = nil) {
        let attributeText = attributes.map { " \($0.key)=\"\(Self.escape($0.value))\"" }.joined()
        if let text {
            lines.append("<\(name)\(attributeText)>\(Self.escape(text))</\(name)>")
        } else {
            lines.append("<\(name)\(attributeText)/>")
        }
    }

    mutating func text(_ content: String, x: Double, y: Double, size: Int, anchor: String = "start",
                       bold: Bool = false, fill: String = "#222222") {
        element("text", ["x": String(format: "%.1f", x), "y": String(format: "%.1f", y), "font-size": String(size),
                         "text-anchor": anchor, "font-weight": bold ? "bold" : "normal", "fill": fill], text: content)
    }

    /// The document, closed.
    func finish() -> String { (lines + ["</svg>"]).joined(separator: "\n") + "\n" }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
