import Sparrow

// Following a producer's output channels to every node they reach. The walk succeeds only when every reader of
// every value that carries the channels is an op whose per-channel behaviour is understood; one unknown reader
// makes the whole producer unprunable.

extension ChannelPruning {
    /// What a node does with the channels it receives.
    enum StepKind: Equatable {
        /// Unary element-wise op: channel c in, channel c out.
        case elementwise
        /// Pooling or a reduction over spatial axes: channel c in, channel c out.
        case pool
        /// Depthwise Conv: its filter, bias and group count lose the channel; the output channel is followed.
        case depthwise
        /// Concat along channels: the channel moves by the sizes of the inputs before it.
        case concat
        /// Flatten or Squeeze of `[N, C, 1, 1]` to `[N, C]`: channel c becomes feature c.
        case flatten
        /// Reshape of `[N, C, 1, 1]` to `[N, C]`: as `flatten`, and a literal C in its shape must shrink.
        case reshape
        /// Conv with `group` 1 reading the channels: its input channels are removed.
        case convSink
        /// Gemm reading the features: rows of B (columns with transB) are removed.
        case gemmSink
        /// MatMul reading the features: rows of its constant B are removed.
        case matMulSink

        var isSink: Bool { self == .convSink || self == .gemmSink || self == .matMulSink }
    }

    /// One node reached by a producer's channels.
    struct Step {
        var node: Int
        var kind: StepKind
        /// The value carrying the channels into the node.
        var input: String
        /// Where the producer's channel 0 sits in `input` (channels stay contiguous; only Concat shifts them).
        var offset: Int
        /// Channel (or feature) count of `input`.
        var inputChannels: Int
    }

    /// A prunable producer and everything its channels reach.
    struct Group {
        var producer: Int
        /// The producer as it was before any rewrite.
        var producerNode: IRNode
        var channels: Int
        /// Spatial size of the producer's output.
        var height: Int
        var width: Int
        /// In graph (topological) order.
        var steps: [Step]
    }

    /// Unary ops that apply one scalar function to every element, whatever its channel.
    static let elementwiseOps: Set<String> = [
        "Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "SiLU", "Tanh", "Gelu", "Identity",
        "Neg", "Abs", "Exp", "Sqrt", "Erf", "Floor", "Ceil",
    ]

    static let poolOps: Set<String> = ["MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"]
    static let reduceOps: Set<String> = ["ReduceMean", "ReduceMax", "ReduceSum"]
    /// Element-wise ops of several inputs: channels reaching them are tied to the other inputs' channels.
    static let tiedOps: Set<String> = ["Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Pow", "PRelu", "Where", "Equal"]

    /// The group of the Conv at `index`.
    /// - Throws: `NotPrunable` with the first reason found.
    static func group(of index: Int, in graph: IRGraph, uses: IRUseIndex, shapes: Shapes) throws -> Group {
        let producer = graph.nodes[index]
        guard producer.inputs.count >= 2, producer.outputs.count == 1, let output = producer.outputs.first else {
            throw NotPrunable("not a plain Conv")
        }
        guard let weight = float32Constant(producer.inputs[1], in: graph), weight.shape.count == 4
        else { throw NotPrunable("its weight is not a float32 4-D constant") }
        let channels = weight.shape[0]
        guard channels >= 2 else { throw NotPrunable("it has one output channel") }
        try checkBias(of: producer, channels: channels, in: graph)
        guard let shape = shapes.shape(output), shape.count == 4, shape[1] == channels else {
            throw NotPrunable("the shape of its output '\(output)' is unknown or depends on a symbolic dimension")
        }

        var steps: [Step] = []
        var visited = Set<Int>()
        var pending: [(value: String, offset: Int)] = [(output, 0)]
        while let (value, offset) = pending.popLast() {
            guard !uses.graphOutputs.contains(value) else {
                throw NotPrunable("its channels reach the graph output '\(value)'")
            }
            guard let valueShape = shapes.shape(value), valueShape.count == 4 || valueShape.count == 2 else {
                throw NotPrunable("the shape of '\(value)' is unknown, depends on a symbolic dimension or is not NCHW")
            }
            for consumer in uses.consumers(of: value) {
                guard visited.insert(consumer).inserted else {
                    throw NotPrunable("its channels reach node '\(graph.nodes[consumer].name)' twice")
                }
                let step = try follow(value, offset: offset, shape: valueShape, into: consumer, in: graph, shapes: shapes)
                steps.append(step)
                guard !step.kind.isSink else { continue }
                let node = graph.nodes[consumer]
                var next = offset
                if step.kind == .concat {
                    let slot = node.inputs.firstIndex(of: value)!
                    for input in node.inputs[..<slot] { next += shapes.shape(input)![1] }
                }
                pending.append((node.outputs[0], next))
            }
        }
        return Group(producer: index, producerNode: producer, channels: channels, height: shape[2], width: shape[3],
                     steps: steps.sorted { $0.node < $1.node })
    }

    /// How `node` treats the channels arriving in `value`.
    private static func follow(_ value: String, offset: Int, shape: [Int], into index: Int, in graph: IRGraph,
                               shapes: Shapes) throws -> Step {
        let node = graph.nodes[index]
        let slots = node.inputs.indices.filter { node.inputs[$0] == value }
        let step = { (kind: StepKind) in Step(node: index, kind: kind, input: value, offset: offset, inputChannels: shape[1]) }
        let label = "\(node.opType) '\(node.name)'"
        guard node.domain.isEmpty else { throw NotPrunable("its channels reach \(node.domain):\(label)") }
        if node.opType == "Concat" {
            let axis = Int(node.attributes["axis"]?.intFromIR ?? 0)
            guard slots.count == 1 else { throw NotPrunable("its channels enter \(label) more than once") }
            guard (axis + shape.count) % shape.count == 1, node.outputs.count == 1 else {
                throw NotPrunable("\(label) does not concatenate along channels")
            }
            for input in node.inputs where shapes.shape(input)?.count != shape.count {
                throw NotPrunable("\(label) has an input '\(input)' of unknown shape")
            }
            try requireShape(node.outputs[0], rank: shape.count, channels: nil, shapes: shapes, label: label)
            return step(.concat)
        }
        // Every other follower reads the channels through its first input alone and passes them on (or absorbs
        // them) through its first output.
        guard slots == [0], !node.outputs.isEmpty, !node.outputs[0].isEmpty else {
            throw NotPrunable(tiedOps.contains(node.opType)
                ? "its channels reach \(label), tied to another input (pruned together or not at all: not at all)"
                : "its channels reach \(label) through an input that cannot be followed")
        }
        let spatialOne = shape.count == 4 && shape[2] * shape[3] == 1
        switch node.opType {
        case let op where elementwiseOps.contains(op):
            guard node.outputs.count == 1, node.inputs.dropFirst().allSatisfy({ $0.isEmpty || graph.initializers[$0] != nil })
            else { throw NotPrunable("\(label) has a computed parameter") }
            return step(.elementwise)

        case let op where poolOps.contains(op):
            guard shape.count == 4, node.outputs.dropFirst().allSatisfy(\.isEmpty) else {
                throw NotPrunable("\(label) is not a plain 2-D pool")
            }
            try requireShape(node.outputs[0], rank: 4, channels: shape[1], shapes: shapes, label: label)
            return step(.pool)

        case let op where reduceOps.contains(op):
            guard shape.count == 4, node.inputs.count >= 2, let axes = graph.initializers[node.inputs[1]]?.int64Values(),
                  !axes.isEmpty, axes.allSatisfy({ [2, 3, -1, -2].contains($0) })
            else { throw NotPrunable("\(label) does not reduce over spatial axes only") }
            let keep = node.attributes["keepdims"]?.intFromIR ?? 1 != 0
            guard keep || Set(axes.map { ($0 + 4) % 4 }).count == 2 else {
                throw NotPrunable("\(label) leaves a rank-3 value")
            }
            try requireShape(node.outputs[0], rank: keep ? 4 : 2, channels: shape[1], shapes: shapes, label: label)
            return step(.pool)

        case "Conv":
            guard shape.count == 4, node.inputs.count >= 2, let weight = float32Constant(node.inputs[1], in: graph),
                  weight.shape.count == 4
            else { throw NotPrunable("\(label) has no float32 4-D constant weight") }
            let group = Int(node.attributes["group"]?.intFromIR ?? 1)
            try requireShape(node.outputs[0], rank: 4, channels: weight.shape[0], shapes: shapes, label: label)
            if group == 1, weight.shape[1] == shape[1] {
                try checkBias(of: node, channels: weight.shape[0], in: graph)
                return step(.convSink)
            }
            guard group == shape[1], weight.shape[0] == shape[1], weight.shape[1] == 1 else {
                throw NotPrunable("\(label) is a grouped Conv (group \(group)) that is neither dense nor depthwise")
            }
            try checkBias(of: node, channels: shape[1], in: graph)
            return step(.depthwise)

        case "Flatten", "Squeeze", "Reshape":
            guard spatialOne else { throw NotPrunable("\(label) reshapes a value with spatial size > 1") }
            if node.opType == "Flatten", node.attributes["axis"]?.intFromIR ?? 1 != 1 {
                throw NotPrunable("\(label) does not flatten from axis 1")
            }
            try requireShape(node.outputs[0], rank: 2, channels: shape[1], shapes: shapes, label: label)
            guard node.opType == "Reshape" else { return step(.flatten) }
            guard node.inputs.count >= 2, let target = graph.initializers[node.inputs[1]]?.int64Values(), target.count == 2,
                  [Int64(shape[1]), -1, 0].contains(target[1])
            else { throw NotPrunable("\(label) has a shape that is not a constant [N, C]") }
            return step(.reshape)

        case "Gemm":
            guard shape.count == 2, node.attributes["transA"]?.intFromIR ?? 0 == 0, node.inputs.count >= 2,
                  let weight = float32Constant(node.inputs[1], in: graph), weight.shape.count == 2
            else { throw NotPrunable("\(label) has no float32 constant B, or transposes A") }
            let transB = node.attributes["transB"]?.intFromIR ?? 0 != 0
            let outputs = transB ? weight.shape[0] : weight.shape[1]
            guard (transB ? weight.shape[1] : weight.shape[0]) == shape[1] else {
                throw NotPrunable("\(label) has a weight that does not match its input")
            }
            if node.inputs.count > 2, !node.inputs[2].isEmpty {
                guard let bias = float32Constant(node.inputs[2], in: graph),
                      [[], [1], [outputs], [1, outputs], [1, 1], [shape[0], outputs]].contains(bias.shape)
                else { throw NotPrunable("\(label) has a C that is not a float32 constant of a foldable shape") }
            }
            try requireShape(node.outputs[0], rank: 2, channels: outputs, shapes: shapes, label: label)
            return step(.gemmSink)

        case "MatMul":
            guard shape.count == 2, node.inputs.count == 2, let weight = float32Constant(node.inputs[1], in: graph),
                  weight.shape.count == 2, weight.shape[0] == shape[1]
            else { throw NotPrunable("\(label) has no float32 2-D constant B") }
            try requireShape(node.outputs[0], rank: 2, channels: weight.shape[1], shapes: shapes, label: label)
            return step(.matMulSink)

        default:
            if tiedOps.contains(node.opType) {
                throw NotPrunable("its channels reach \(label), tied to another input (pruned together or not at all: not at all)")
            }
            throw NotPrunable("its channels reach \(label), which pruning does not follow")
        }
    }

    /// Requires `value` to have a known shape of `rank` (and `channels` on axis 1), independent of symbolic dims.
    private static func requireShape(_ value: String, rank: Int, channels: Int?, shapes: Shapes, label: String) throws {
        guard let shape = shapes.shape(value), shape.count == rank, channels == nil || shape[1] == channels else {
            throw NotPrunable("the output of \(label) has an unknown shape, or one that depends on a symbolic dimension")
        }
    }

    /// Requires a Conv's bias to be absent or a float32 constant of `channels` elements.
    private static func checkBias(of node: IRNode, channels: Int, in graph: IRGraph) throws {
        guard node.inputs.count > 2, !node.inputs[2].isEmpty else { return }
        guard let bias = float32Constant(node.inputs[2], in: graph), bias.elementCount == channels else {
            throw NotPrunable("'\(node.name)' has a bias that is not a float32 constant of \(channels) elements")
        }
    }

    /// A float32 initializer whose bytes match its shape (what every rewrite reads as floats).
    static func float32Constant(_ name: String, in graph: IRGraph) -> IRTensorData? {
        guard let tensor = graph.initializers[name], tensor.dtype == .float32,
              tensor.bytes.count == tensor.elementCount * 4 else { return nil }
        return tensor
    }
}
