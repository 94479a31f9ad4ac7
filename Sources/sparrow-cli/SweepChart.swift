import Foundation

/// The chart of `sparrow bench --sweep` as a hand-written SVG: two panels, latency against file size and speed-up
/// against sparsity, one labelled point per variant, with the spread over rounds as bars. No plotting library:
/// the report is made wherever Sparrow runs.
struct SweepChart {
    /// How a point is drawn: the reference, the magnitude-pruning series (joined by a line), or a variant apart.
    enum Series {
        case reference, magnitude, other

        var legend: String {
            switch self {
            case .reference: return "dense (reference)"
            case .magnitude: return "magnitude pruning (--prune)"
            case .other: return "other variants"
            }
        }

        var color: String {
            switch self {
            case .reference: return "#333333"
            case .magnitude: return "#1f77b4"
            case .other: return "#d62728"
            }
        }
    }

    struct Point {
        let label: String
        let series: Series
        let fileBytes: Int
        let latency: SweepReport.Spread
        /// The magnitude-pruning fraction of the pruned layers (`--prune`), 0 for a variant without.
        let sparsity: Double
        let speedup: SweepReport.Spread
    }

    let title: String
    let subtitle: String
    let points: [Point]
    /// Lines under the panels, e.g. the variants this build could not make.
    let notes: [String]

    static let width = 1000.0
    static let height = 500.0
    /// Space above the highest bar, so that no point sits on the frame.
    static let headroom = 1.04
    /// Text width per character at the label size, for placing labels without a font engine: generous, so that
    /// the estimated boxes contain the drawn text.
    static let characterWidth = 6.4
    static let labelHeight = 12.0

    /// A plot area in SVG coordinates and the data ranges its ticks span (both from 0).
    struct Panel {
        let left: Double, top: Double, width: Double, height: Double
        let xTicks: [Double], yTicks: [Double]

        var right: Double { left + width }
        var bottom: Double { top + height }
        func x(_ value: Double) -> Double { left + width * value / (xTicks.last ?? 1) }
        func y(_ value: Double) -> Double { top + height * (1 - value / (yTicks.last ?? 1)) }
        var box: Box { Box(x: left, y: top, width: width, height: height) }
    }

    func svg() -> String {
        var svg = SVGWriter(width: Self.width, height: Self.height)
        svg.element("title", text: title)
        svg.element("rect", ["width": "100%", "height": "100%", "fill": "#ffffff"])
        svg.text(title, x: Self.width / 2, y: 28, size: 18, anchor: "middle", bold: true)
        svg.text(subtitle, x: Self.width / 2, y: 50, size: 12, anchor: "middle", fill: "#444444")
        drawLegend(&svg, y: 72)

        // KiB for small models, so that the ticks read as whole numbers.
        let largest = points.map(\.fileBytes).max() ?? 0
        let (unit, unitBytes) = largest >= 1 << 20 ? ("MiB", 1_048_576.0) : ("KiB", 1024.0)
        let size = { (point: Point) in Double(point.fileBytes) / unitBytes }
        let latencyTop = (points.map(\.latency.max).max() ?? 1) * Self.headroom
        let speedupTop = max((points.map(\.speedup.max).max() ?? 1) * Self.headroom, 1.2)
        let latency = Panel(left: 80, top: 115, width: 370, height: 285,
                            xTicks: Self.ticks(upTo: points.map(size).max() ?? 1),
                            yTicks: Self.ticks(upTo: latencyTop))
        let speedup = Panel(left: 590, top: 115, width: 370, height: 285,
                            xTicks: stride(from: 0.0, through: 100, by: 20).map { $0 },
                            yTicks: Self.ticks(upTo: speedupTop))
        drawAxes(&svg, latency, heading: "Latency against file size", xTitle: "file size (\(unit))",
                 yTitle: "median latency (ms)")
        drawAxes(&svg, speedup, heading: "Speed-up against sparsity",
                 xTitle: "sparsity of the pruned layers (--prune, %)", yTitle: "speed-up vs dense (×)")
        // The dense level: a variant above the line is faster than dense.
        svg.element("line", ["x1": f(speedup.left), "y1": f(speedup.y(1)), "x2": f(speedup.right),
                             "y2": f(speedup.y(1)), "stroke": "#888888", "stroke-dasharray": "5,4"])

        let latencyPositions = points.map { (latency.x(size($0)), latency.y($0.latency.median)) }
        let speedupPositions = points.map { (speedup.x($0.sparsity * 100), speedup.y($0.speedup.median)) }
        let series = points.indices.filter { points[$0].series != .other }.sorted { points[$0].sparsity < points[$1].sparsity }
        if series.count > 1 {
            let path = series.map { "\(f(speedupPositions[$0].0)),\(f(speedupPositions[$0].1))" }
            svg.element("polyline", ["points": path.joined(separator: " "), "fill": "none",
                                     "stroke": Series.magnitude.color, "stroke-width": "1.5", "stroke-opacity": "0.6"])
        }
        drawPoints(&svg, latency, positions: latencyPositions,
                   bars: points.map { (latency.y($0.latency.min), latency.y($0.latency.max)) })
        drawPoints(&svg, speedup, positions: speedupPositions,
                   bars: points.map { (speedup.y($0.speedup.min), speedup.y($0.speedup.max)) })

        let legend = "Points: median over all timed runs (speed-up: median over rounds of dense ÷ variant). "
            + "Bars: min–max of the per-round medians."
        for (index, note) in ([legend] + notes).enumerated() {
            svg.text(note, x: 40, y: 462 + 16 * Double(index), size: 11, fill: "#444444")
        }
        return svg.finish()
    }

    /// One coloured dot and name per series present, centred in a row.
    private func drawLegend(_ svg: inout SVGWriter, y: Double) {
        let present = [Series.reference, .magnitude, .other].filter { series in points.contains { $0.series == series } }
        let widths = present.map { 16 + Double($0.legend.count) * Self.characterWidth + 24 }
        var x = (Self.width - widths.reduce(0, +)) / 2
        for (series, width) in zip(present, widths) {
            if series == .reference {
                svg.element("circle", ["cx": f(x + 5), "cy": f(y - 4), "r": "5", "fill": "none", "stroke": series.color,
                                       "stroke-width": "2"])
            } else {
                svg.element("circle", ["cx": f(x + 5), "cy": f(y - 4), "r": "5", "fill": series.color])
            }
            svg.text(series.legend, x: x + 16, y: y, size: 11, fill: "#444444")
            x += width
        }
    }

    private func drawAxes(_ svg: inout SVGWriter, _ panel: Panel, heading: String, xTitle: String, yTitle: String) {
        svg.text(heading, x: panel.left + panel.width / 2, y: panel.top - 10, size: 14, anchor: "middle", bold: true)
        let yStep = Self.step(panel.yTicks), xStep = Self.step(panel.xTicks)
        for tick in panel.yTicks {
            let y = panel.y(tick)
            svg.element("line", ["x1": f(panel.left), "y1": f(y), "x2": f(panel.right), "y2": f(y), "stroke": "#e4e4e4"])
            svg.text(Self.tickLabel(tick, step: yStep), x: panel.left - 6, y: y + 4, size: 11, anchor: "end")
        }
        for tick in panel.xTicks {
            let x = panel.x(tick)
            svg.element("line", ["x1": f(x), "y1": f(panel.top), "x2": f(x), "y2": f(panel.bottom),
                                 "stroke": "#f0f0f0"])
            svg.element("line", ["x1": f(x), "y1": f(panel.bottom), "x2": f(x), "y2": f(panel.bottom + 5),
                                 "stroke": "#333333"])
            svg.text(Self.tickLabel(tick, step: xStep), x: x, y: panel.bottom + 18, size: 11, anchor: "middle")
        }
        svg.element("rect", ["x": f(panel.left), "y": f(panel.top), "width": f(panel.width),
                             "height": f(panel.height), "fill": "none", "stroke": "#333333"])
        svg.text(xTitle, x: panel.left + panel.width / 2, y: panel.bottom + 38, size: 12, anchor: "middle")
        let (x, y) = (panel.left - 48, panel.top + panel.height / 2)
        svg.element("text", ["x": f(x), "y": f(y), "font-size": "12", "text-anchor": "middle",
                             "transform": "rotate(-90 \(f(x)) \(f(y)))"], text: yTitle)
    }

    /// Bars, then points, then labels: each label goes to the first of a few places around its point, nearest
    /// first, that stays inside the plot and overlaps no point or label already placed; a thin line joins it to
    /// its point when it had to move away.
    private func drawPoints(_ svg: inout SVGWriter, _ panel: Panel, positions: [(Double, Double)],
                            bars: [(Double, Double)]) {
        for (index, point) in points.enumerated() where bars[index].0 - bars[index].1 > 1 {
            svg.element("line", ["x1": f(positions[index].0), "y1": f(bars[index].0), "x2": f(positions[index].0),
                                 "y2": f(bars[index].1), "stroke": point.series.color, "stroke-width": "1.5"])
        }
        // The reference is a ring drawn last, so that a variant with the same size and time (prune-0.5 stored
        // dense) shows inside it instead of hiding it.
        let referenceLast = points.indices.filter { points[$0].series != .reference }
            + points.indices.filter { points[$0].series == .reference }
        for index in referenceLast {
            let point = points[index], (x, y) = (f(positions[index].0), f(positions[index].1))
            if point.series == .reference {
                svg.element("circle", ["class": "point", "data-variant": point.label, "cx": x, "cy": y, "r": "6.5",
                                       "fill": "none", "stroke": point.series.color, "stroke-width": "2.5"])
            } else {
                svg.element("circle", ["class": "point", "data-variant": point.label, "cx": x, "cy": y, "r": "5",
                                       "fill": point.series.color, "stroke": "#ffffff", "stroke-width": "1"])
            }
        }
        var occupied = positions.map { Box(x: $0.0 - 8, y: $0.1 - 8, width: 16, height: 16) }
        for (index, point) in points.enumerated() {
            let (x, y) = positions[index]
            let width = Double(point.label.count) * Self.characterWidth
            let box = Self.labelPlaces(x: x, y: y, width: width)
                .first { panel.box.contains($0) && !occupied.contains(where: $0.overlaps) }
                ?? Box(x: x + 9, y: y - Self.labelHeight / 2, width: width, height: Self.labelHeight)
            occupied.append(box)
            let end = box.nearest(to: (x, y))
            if hypot(end.0 - x, end.1 - y) > 14 {
                svg.element("line", ["x1": f(x), "y1": f(y), "x2": f(end.0), "y2": f(end.1), "stroke": "#999999",
                                     "stroke-width": "0.8"])
            }
            svg.element("text", ["class": "label", "x": f(box.x), "y": f(box.y + Self.labelHeight - 2),
                                 "font-size": "11", "fill": "#222222"], text: point.label)
        }
    }

    /// Right, left, above, below and the four diagonals of (x, y), at growing distances.
    private static func labelPlaces(x: Double, y: Double, width: Double) -> [Box] {
        let height = labelHeight
        return [9.0, 22, 36, 52].flatMap { distance -> [Box] in
            let diagonal = distance * 0.7
            return [(x + distance, y - height / 2), (x - distance - width, y - height / 2),
                    (x - width / 2, y - distance - height), (x - width / 2, y + distance),
                    (x + diagonal, y - diagonal - height), (x + diagonal, y + diagonal),
                    (x - diagonal - width, y - diagonal - height), (x - diagonal - width, y + diagonal)]
                .map { Box(x: $0.0, y: $0.1, width: width, height: height) }
        }
    }

    struct Box {
        let x: Double, y: Double, width: Double, height: Double

        func overlaps(_ other: Box) -> Bool {
            x < other.x + other.width && other.x < x + width && y < other.y + other.height && other.y < y + height
        }

        func contains(_ other: Box) -> Bool {
            other.x >= x && other.y >= y && other.x + other.width <= x + width && other.y + other.height <= y + height
        }

        /// The point of the box nearest to `point`, where a leader line ends.
        func nearest(to point: (Double, Double)) -> (Double, Double) {
            (min(max(point.0, x), x + width), min(max(point.1, y), y + height))
        }
    }

    /// Ticks from 0 to the first multiple of a 1-2-2.5-5 step at or above `maximum`: about five intervals.
    static func ticks(upTo maximum: Double) -> [Double] {
        let top = maximum.isFinite && maximum > 0 ? maximum : 1
        let raw = top / 5
        let magnitude = pow(10, log10(raw).rounded(.down))
        let step = [1, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw * (1 - 1e-9) } ?? 10 * magnitude
        let count = Int((top / step - 1e-9).rounded(.up))
        return (0...max(count, 1)).map { Double($0) * step }
    }

    private static func step(_ ticks: [Double]) -> Double { ticks.count > 1 ? ticks[1] - ticks[0] : 1 }

    /// As many decimals as the step needs: `20`, `2.5`, `0.25`.
    static func tickLabel(_ value: Double, step: Double) -> String {
        var decimals = 0
        while decimals < 4 {
            let scaled = step * pow(10, Double(decimals))
            if abs(scaled - scaled.rounded()) < 1e-6 { break }
            decimals += 1
        }
        return String(format: "%.\(decimals)f", value)
    }

    /// Coordinates with one decimal: enough for a 1000-pixel drawing.
    private func f(_ value: Double) -> String { String(format: "%.1f", value) }
}
