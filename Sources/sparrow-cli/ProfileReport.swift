import Sparrow

/// Where the time of one profiled run goes: every node that ran, slowest first, and the total per op kind.
struct ProfileReport {
    struct NodeTime: Equatable {
        let node: String
        /// The op with its fused activation, e.g. `Conv+relu`.
        let op: String
        /// The op kind the per-kind totals group by, e.g. `Conv`.
        let kind: String
        let seconds: Double
    }

    struct KindTotal: Equatable {
        let op: String
        let nodes: Int
        let seconds: Double
    }

    /// Slowest first; ties keep the order of the run.
    let nodes: [NodeTime]
    /// Slowest kind first.
    let kinds: [KindTotal]
    let totalSeconds: Double

    init(_ timings: [NodeTime]) {
        nodes = timings.enumerated().sorted {
            $0.element.seconds != $1.element.seconds ? $0.element.seconds > $1.element.seconds : $0.offset < $1.offset
        }.map(\.element)
        var totals: [String: (nodes: Int, seconds: Double)] = [:]
        for timing in timings {
            totals[timing.kind, default: (0, 0)].nodes += 1
            totals[timing.kind, default: (0, 0)].seconds += timing.seconds
        }
        kinds = totals.map { KindTotal(op: $0.key, nodes: $0.value.nodes, seconds: $0.value.seconds) }
            .sorted { $0.seconds != $1.seconds ? $0.seconds > $1.seconds : $0.op < $1.op }
        totalSeconds = timings.reduce(0) { $0 + $1.seconds }
    }

    /// The report of a profiled run of a graph (which names the activations fused into nodes).
    init(_ timings: [OpTiming], graph: GraphDescription) {
        let labels = OpLabel.labels(graph)
        self.init(timings.map {
            NodeTime(node: $0.node, op: labels[$0.node] ?? $0.op.name, kind: $0.op.name, seconds: $0.seconds)
        })
    }

    /// The per-node table, the per-kind table and the total.
    func lines() -> [String] {
        var nodeTable = TextTable([.init("node"), .init("op"), .init("ms", .right), .init("%", .right),
                                   .init("cumulative", .right)])
        var cumulative = 0.0
        for node in nodes {
            cumulative += node.seconds
            nodeTable.append([node.node, node.op, Formatting.milliseconds(node.seconds * 1000),
                              Formatting.percent(node.seconds, of: totalSeconds),
                              Formatting.percent(cumulative, of: totalSeconds)])
        }
        var kindTable = TextTable([.init("op"), .init("nodes", .right), .init("ms", .right), .init("%", .right)])
        for kind in kinds {
            kindTable.append([kind.op, String(kind.nodes), Formatting.milliseconds(kind.seconds * 1000),
                              Formatting.percent(kind.seconds, of: totalSeconds)])
        }
        return ["profile: \(nodes.count) nodes ran, \(Formatting.milliseconds(totalSeconds * 1000)) ms in nodes", ""]
            + nodeTable.render() + ["", "by op kind:"] + kindTable.render()
    }
}
