import XCTest
@testable import Sparrow

/// Runs one operator on host arrays, the way the planner does: `evaluate` (plan-time folding), or
/// infer → buffers → prepare → kernel on run-time buffers.
enum OpHarness {
    static func node(_ kind: OpKind, inputs: [HostValue?], outputs: Int, attributes: [String: Attribute]) -> NodeDecl {
        NodeDecl(op: kind, name: "\(kind.name)-test", inputs: inputs.indices.map { inputs[$0] == nil ? nil : $0 },
                 outputs: (0..<outputs).map { inputs.count + $0 }, attributes: attributes)
    }

    /// The op's plan-time evaluation with every given input known.
    static func evaluate(_ kind: OpKind, _ inputs: [HostValue?], outputs: Int = 1,
                         _ attributes: [String: Attribute] = [:]) throws -> [HostValue]? {
        let context = OpContext(node: node(kind, inputs: inputs, outputs: outputs, attributes: attributes),
                                inputs: inputs.map { $0?.type }, values: inputs)
        return try OperatorRegistry.lookup(kind)!.evaluate(context)
    }

    /// Runs the kernel. Inputs listed in `unknown` (default: input 0, the data) are run-time buffers; the
    /// others are also given to the op as known values, as constants are when planning.
    static func run(_ kind: OpKind, _ inputs: [HostValue?], outputs: Int = 1, _ attributes: [String: Attribute] = [:],
                    unknown: Set<Int> = [0], threads: Int = 1) throws -> [HostValue] {
        let op = OperatorRegistry.lookup(kind)!
        let values = inputs.enumerated().map { unknown.contains($0.offset) ? nil : $0.element }
        let context = OpContext(node: node(kind, inputs: inputs, outputs: outputs, attributes: attributes),
                                inputs: inputs.map { $0?.type }, values: values)
        let types = try op.infer(context)
        var blocks: [UnsafeMutableRawPointer] = []
        defer { for block in blocks { block.deallocate() } }
        func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
            let block = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64)
            // Poison, so that an element the kernel forgets shows up.
            block.initializeMemory(as: UInt8.self, repeating: 0xA5, count: max(bytes, 64))
            blocks.append(block)
            return block
        }
        let inputPointers: [UnsafeRawPointer?] = inputs.map { value in
            value.map { v in
                let block = allocate(v.count * v.dtype.size)
                v.write(to: block)
                return UnsafeRawPointer(block)
            }
        }
        let outputPointers = types.map { allocate($0.byteCount) }
        let workspace = try op.workspaceBytes(context, outputs: types)
        let pool = ThreadPool(threadCount: threads)
        let kernel = try op.prepare(context, outputs: types, buffers: OpBuffers(
            inputs: inputPointers, outputs: outputPointers, workspace: workspace > 0 ? allocate(workspace) : nil,
            pool: pool))
        kernel()
        return zip(types, outputPointers).map {
            HostValue(type: $0, bytes: UnsafeRawBufferPointer(start: $1, count: $0.byteCount))
        }
    }

    static func floats(_ shape: [Int], _ values: [Float]? = nil) -> HostValue {
        let count = shape.reduce(1, *)
        return HostValue(floats: values ?? (0..<count).map { Float($0) }, shape: shape)
    }

    static func ints(_ values: [Int], shape: [Int]? = nil, dtype: DType = .int64) -> HostValue {
        HostValue(ints: values.map { Int64($0) }, shape: shape ?? [values.count], dtype: dtype)
    }

    static func scalar(_ value: Float) -> HostValue { HostValue(floats: [value], shape: []) }

    /// Deterministic pseudo-random floats (SplitMix64), never the clock.
    static func random(_ shape: [Int], seed: UInt64) -> HostValue {
        var state = seed
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return Float(z >> 40) / Float(1 << 24) * 2 - 1
        }
        return HostValue(floats: values, shape: shape)
    }

    static func strides(_ shape: [Int]) -> [Int] {
        var strides = Array(repeating: 1, count: shape.count)
        var running = 1
        for axis in shape.indices.reversed() {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    static func multiIndex(_ flat: Int, _ shape: [Int]) -> [Int] {
        var rest = flat
        var index = Array(repeating: 0, count: shape.count)
        for axis in shape.indices.reversed() {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return index
    }

    static func flat(_ index: [Int], _ shape: [Int]) -> Int {
        zip(index, strides(shape)).reduce(0) { $0 + $1.0 * $1.1 }
    }
}

final class LayoutOpsTests: XCTestCase {
    typealias H = OpHarness

    private func assertClose(_ actual: [Float], _ expected: [Float], tolerance: Float = 1e-5,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "count", file: file, line: line)
        for (i, (a, e)) in zip(actual, expected).enumerated() where abs(a - e) > tolerance * max(1, abs(e)) {
            XCTFail("element \(i): \(a) vs \(e)", file: file, line: line)
            return
        }
    }

    private func assertInvalid(_ body: () throws -> Any, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try body()
            XCTFail("expected invalidGraph", file: file, line: line)
        } catch SparrowError.invalidGraph {
        } catch {
            XCTFail("expected invalidGraph, got \(error)", file: file, line: line)
        }
    }

    // MARK: Slice

    /// ONNX's rule, written the plain way: clamp, then walk.
    private func sliceReference(_ data: HostValue, starts: [Int], ends: [Int], axes: [Int], steps: [Int]) -> HostValue {
        var perAxis = data.shape.map { Array(0..<$0) }
        for (i, rawAxis) in axes.enumerated() {
            let axis = rawAxis < 0 ? rawAxis + data.shape.count : rawAxis
            let dim = data.shape[axis]
            var start = starts[i] < 0 ? starts[i] + dim : starts[i]
            var end = ends[i] < 0 ? ends[i] + dim : ends[i]
            let step = steps[i]
            var picked: [Int] = []
            if step > 0 {
                start = min(max(start, 0), dim)
                end = min(max(end, 0), dim)
                var j = start
                while j < end { picked.append(j); j += step }
            } else {
                start = min(max(start, 0), dim - 1)
                end = min(max(end, -1), dim - 1)
                var j = start
                while j > end { picked.append(j); j += step }
            }
            perAxis[axis] = picked
        }
        let shape = perAxis.map(\.count)
        let count = shape.reduce(1, *)
        let values = (0..<count).map { flat -> Float in
            let index = H.multiIndex(flat, shape)
            return data.floats[H.flat(index.enumerated().map { perAxis[$0.offset][$0.element] }, data.shape)]
        }
        return HostValue(floats: values, shape: shape)
    }

    func testSliceNegativeStepsAndClamping() throws {
        let data = H.floats([4, 5, 6])
        let cases: [(starts: [Int], ends: [Int], axes: [Int], steps: [Int])] = [
            ([1, 0], [3, 6], [0, 2], [1, 2]),
            ([-1], [-1000], [1], [-1]),
            ([Int(Int64.max)], [Int(Int64.min)], [2], [-2]),
            ([-10], [Int(Int64.max)], [-1], [1]),
            ([10], [-10], [0], [-3]),
            ([2, 4, 1], [0, -100, 100], [0, 1, 2], [-1, -2, 3]),
            ([3], [3], [1], [1]),
            ([-10], [-100], [2], [-1]),  // start clamps to 0 for negative steps: one element
            ([0], [5], [1], [Int(Int64.max)]),
            ([4], [0], [1], [Int(Int64.min)]),
        ]
        for c in cases {
            let inputs: [HostValue?] = [data, H.ints(c.starts), H.ints(c.ends), H.ints(c.axes), H.ints(c.steps)]
            let expected = sliceReference(data, starts: c.starts, ends: c.ends, axes: c.axes, steps: c.steps)
            let actual = try H.run(.slice, inputs)[0]
            XCTAssertEqual(actual, expected, "\(c)")
            XCTAssertEqual(try H.evaluate(.slice, inputs)?[0], expected, "\(c)")
        }
        // Axes and steps omitted: the leading axes, step 1.
        let plain = try H.run(.slice, [data, H.ints([1, 2]), H.ints([3, 4])])[0]
        XCTAssertEqual(plain, sliceReference(data, starts: [1, 2], ends: [3, 4], axes: [0, 1], steps: [1, 1]))
        assertInvalid { try H.run(.slice, [data, H.ints([0]), H.ints([1]), H.ints([0]), H.ints([0])]) }
        assertInvalid { try H.run(.slice, [data, H.ints([0, 0]), H.ints([1, 1]), H.ints([1, -2])]) }
        assertInvalid { try H.run(.slice, [data, H.ints([0]), H.ints([1]), H.ints([3])]) }
    }

    func testSliceLargeParallel() throws {
        let data = H.random([3, 64, 80], seed: 1)
        let inputs: [HostValue?] = [data, H.ints([60, 1]), H.ints([-100, 79]), H.ints([1, 2]), H.ints([-3, 2])]
        let expected = sliceReference(data, starts: [60, 1], ends: [-100, 79], axes: [1, 2], steps: [-3, 2])
        XCTAssertEqual(try H.run(.slice, inputs, threads: 4)[0], expected)
    }

    func testSliceInt64ShapeVectorEvaluates() throws {
        let shape = H.ints([1, 3, 224, 224])
        let tail = try H.evaluate(.slice, [shape, H.ints([2]), H.ints([Int(Int64.max)])])?[0]
        XCTAssertEqual(tail, H.ints([224, 224]))
    }

    // MARK: Reshape, Flatten, Squeeze, Unsqueeze, Identity

    func testReshapeZeroAndMinusOne() throws {
        let data = H.floats([2, 3, 4])
        XCTAssertEqual(try H.run(.reshape, [data, H.ints([0, -1])])[0].shape, [2, 12])
        XCTAssertEqual(try H.run(.reshape, [data, H.ints([-1, 0, 2])])[0].shape, [4, 3, 2])
        XCTAssertEqual(try H.run(.reshape, [data, H.ints([24])])[0].floats, data.floats)
        XCTAssertEqual(try H.run(.reshape, [data, H.ints([0, 0, 0])])[0].shape, [2, 3, 4])
        let empty = H.floats([0, 3])
        XCTAssertEqual(try H.run(.reshape, [empty, H.ints([3, 0])], ["allowzero": .int(1)])[0].shape, [3, 0])
        XCTAssertEqual(try H.run(.reshape, [empty, H.ints([-1, 3])])[0].shape, [0, 3])
        assertInvalid { try H.run(.reshape, [data, H.ints([5, -1])]) }
        assertInvalid { try H.run(.reshape, [data, H.ints([-1, -1])]) }
        assertInvalid { try H.run(.reshape, [data, H.ints([0, 0, 0, 0])]) }
        assertInvalid { try H.run(.reshape, [data, H.ints([0, -1])], ["allowzero": .int(1)]) }
        assertInvalid { try H.run(.reshape, [data, H.ints([-2, 12])]) }
        let folded = try H.evaluate(.reshape, [H.ints([1, 2, 3, 4]), H.ints([2, -1])])?[0]
        XCTAssertEqual(folded, H.ints([1, 2, 3, 4], shape: [2, 2]))
    }

    func testFlattenSqueezeUnsqueezeIdentity() throws {
        let data = H.floats([2, 1, 3, 1])
        XCTAssertEqual(try H.run(.flatten, [data])[0].shape, [2, 3])
        XCTAssertEqual(try H.run(.flatten, [data], ["axis": .int(-1)])[0].shape, [6, 1])
        XCTAssertEqual(try H.run(.flatten, [data], ["axis": .int(0)])[0].shape, [1, 6])
        XCTAssertEqual(try H.run(.flatten, [data], ["axis": .int(4)])[0].shape, [6, 1])
        assertInvalid { try H.run(.flatten, [data], ["axis": .int(5)]) }
        XCTAssertEqual(try H.run(.squeeze, [data])[0].shape, [2, 3])
        XCTAssertEqual(try H.run(.squeeze, [data, H.ints([-1])])[0].shape, [2, 1, 3])
        assertInvalid { try H.run(.squeeze, [data, H.ints([0])]) }
        assertInvalid { try H.run(.squeeze, [data, H.ints([1, 1])]) }
        let unsqueezed = try H.run(.unsqueeze, [H.floats([2, 3]), H.ints([0, -1, 2])])[0]
        XCTAssertEqual(unsqueezed.shape, [1, 2, 1, 3, 1])
        XCTAssertEqual(unsqueezed.floats, H.floats([6]).floats)
        assertInvalid { try H.run(.unsqueeze, [H.floats([2, 3]), H.ints([5])]) }
        XCTAssertEqual(try H.run(.identity, [data])[0], data)
        XCTAssertEqual(try H.evaluate(.identity, [H.ints([7])])?[0], H.ints([7]))
        XCTAssertEqual(try H.evaluate(.unsqueeze, [H.ints([7], shape: []), H.ints([0])])?[0], H.ints([7]))
        XCTAssertEqual(try H.evaluate(.squeeze, [H.ints([7]), H.ints([0])])?[0], H.ints([7], shape: []))
    }

    // MARK: Concat, Split

    func testConcat() throws {
        let a = H.random([2, 3, 4], seed: 2)
        let b = H.random([2, 5, 4], seed: 3)
        let out = try H.run(.concat, [a, b], ["axis": .int(-2)], unknown: [0, 1])[0]
        XCTAssertEqual(out.shape, [2, 8, 4])
        for n in 0..<2 {
            XCTAssertEqual(Array(out.floats[(n * 32)..<(n * 32 + 12)]), Array(a.floats[(n * 12)..<(n * 12 + 12)]))
            XCTAssertEqual(Array(out.floats[(n * 32 + 12)..<(n * 32 + 32)]), Array(b.floats[(n * 20)..<(n * 20 + 20)]))
        }
        // Channel concat of big NCHW maps: one row, pieces spread over threads.
        let x = H.random([1, 16, 40, 40], seed: 4)
        let y = H.random([1, 24, 40, 40], seed: 5)
        let z = H.random([1, 0, 40, 40], seed: 6)
        let big = try H.run(.concat, [x, z, y], ["axis": .int(1)], unknown: [0, 1, 2], threads: 4)[0]
        XCTAssertEqual(big.floats, x.floats + y.floats)
        let folded = try H.evaluate(.concat, [H.ints([1]), H.ints([-1, 7])], ["axis": .int(0)])?[0]
        XCTAssertEqual(folded, H.ints([1, -1, 7]))
        assertInvalid { try H.run(.concat, [a, H.floats([2, 3, 5])], ["axis": .int(1)], unknown: [0, 1]) }
        assertInvalid { try H.run(.concat, [a, b], ["axis": .int(3)], unknown: [0, 1]) }
        assertInvalid { try H.run(.concat, [a, b], unknown: [0, 1]) }
    }

    func testSplitVariants() throws {
        let data = H.floats([2, 7])
        let sized = try H.run(.split, [data, H.ints([2, 0, 5])], outputs: 3, ["axis": .int(1)])
        XCTAssertEqual(sized.map(\.shape), [[2, 2], [2, 0], [2, 5]])
        XCTAssertEqual(sized[0].floats, [0, 1, 7, 8])
        XCTAssertEqual(sized[2].floats, [2, 3, 4, 5, 6, 9, 10, 11, 12, 13])
        let chunks = try H.run(.split, [data], outputs: 3, ["axis": .int(-1), "num_outputs": .int(3)])
        XCTAssertEqual(chunks.map(\.shape), [[2, 3], [2, 3], [2, 1]])
        XCTAssertEqual(chunks[2].floats, [6, 13])
        let equal = try H.run(.split, [data], outputs: 2)
        XCTAssertEqual(equal.map(\.floats), [Array(0..<7).map(Float.init), Array(7..<14).map(Float.init)])
        assertInvalid { try H.run(.split, [data], outputs: 2, ["axis": .int(1)]) }
        assertInvalid { try H.run(.split, [data, H.ints([3, 3])], outputs: 2, ["axis": .int(1)]) }
        assertInvalid { try H.run(.split, [data], outputs: 4, ["axis": .int(1), "num_outputs": .int(3)]) }
        let big = H.random([1, 64, 32, 32], seed: 7)
        let halves = try H.run(.split, [big, H.ints([16, 48])], outputs: 2, ["axis": .int(1)], threads: 4)
        XCTAssertEqual(halves[0].floats + halves[1].floats, big.floats)
        let folded = try H.evaluate(.split, [H.ints([1, 2, 3])], outputs: 3)
        XCTAssertEqual(folded, [H.ints([1]), H.ints([2]), H.ints([3])])
    }

    // MARK: Transpose

    private func transposeReference(_ data: HostValue, _ perm: [Int]) -> HostValue {
        let shape = perm.map { data.shape[$0] }
        let values = (0..<data.count).map { flat -> Float in
            let out = H.multiIndex(flat, shape)
            var index = Array(repeating: 0, count: perm.count)
            for (i, axis) in perm.enumerated() { index[axis] = out[i] }
            return data.floats[H.flat(index, data.shape)]
        }
        return HostValue(floats: values, shape: shape)
    }

    private func permutations(_ n: Int) -> [[Int]] {
        if n == 0 { return [[]] }
        return permutations(n - 1).flatMap { p in (0...p.count).map { i in var q = p; q.insert(n - 1, at: i); return q } }
    }

    func testTransposeAllRanks() throws {
        let shapes = [[3, 5], [2, 3, 4], [2, 3, 1, 5], [2, 1, 3, 2, 3]]
        for (s, shape) in shapes.enumerated() {
            let data = H.random(shape, seed: UInt64(10 + s))
            for perm in permutations(shape.count) {
                let out = try H.run(.transpose, [data], ["perm": .ints(perm.map { Int64($0) })])[0]
                XCTAssertEqual(out, transposeReference(data, perm), "\(shape) \(perm)")
            }
        }
        let data = H.random([2, 3, 4], seed: 20)
        XCTAssertEqual(try H.run(.transpose, [data])[0], transposeReference(data, [2, 1, 0]))
        assertInvalid { try H.run(.transpose, [data], ["perm": .ints([0, 0, 1])]) }
        assertInvalid { try H.run(.transpose, [data], ["perm": .ints([0, 1])]) }
    }

    func testTransposeFastPathsParallel() throws {
        let nchw = H.random([2, 37, 19, 23], seed: 21)
        for perm in [[0, 2, 3, 1], [0, 3, 1, 2], [3, 2, 1, 0], [1, 0, 2, 3]] {
            let out = try H.run(.transpose, [nchw], ["perm": .ints(perm.map { Int64($0) })], threads: 4)[0]
            XCTAssertEqual(out, transposeReference(nchw, perm), "\(perm)")
        }
        let matrix = H.random([129, 257], seed: 22)
        XCTAssertEqual(try H.run(.transpose, [matrix], threads: 3)[0], transposeReference(matrix, [1, 0]))
        let half = HostValue(floats: H.random([33, 65], seed: 23).floats.map { Float(halfBits: $0.halfBits) },
                             shape: [33, 65], dtype: .float16)
        let transposed = try H.run(.transpose, [half])[0]
        XCTAssertEqual(transposed.floats, transposeReference(HostValue(floats: half.floats, shape: [33, 65]), [1, 0]).floats)
        let bytes = H.ints(Array(0..<60).map { $0 % 100 }, shape: [3, 4, 5], dtype: .int8)
        let reference = transposeReference(HostValue(floats: bytes.ints.map { Float($0) }, shape: [3, 4, 5]), [2, 0, 1])
        XCTAssertEqual(try H.run(.transpose, [bytes], ["perm": .ints([2, 0, 1])])[0].ints.map { Float($0) }, reference.floats)
    }

    // MARK: Pad

    func testPadModes1D() throws {
        let data = H.floats([3], [1, 2, 3])
        func pad(_ mode: String, _ pads: [Int], _ value: HostValue? = nil) throws -> [Float] {
            try H.run(.pad, [data, H.ints(pads), value], ["mode": .string(mode)])[0].floats
        }
        XCTAssertEqual(try pad("constant", [2, 1]), [0, 0, 1, 2, 3, 0])
        XCTAssertEqual(try pad("constant", [1, 1], H.scalar(9)), [9, 1, 2, 3, 9])
        XCTAssertEqual(try pad("reflect", [2, 2]), [3, 2, 1, 2, 3, 2, 1])
        XCTAssertEqual(try pad("reflect", [4, 0]), [1, 2, 3, 2, 1, 2, 3])
        XCTAssertEqual(try pad("edge", [2, 3]), [1, 1, 1, 2, 3, 3, 3, 3])
        XCTAssertEqual(try pad("wrap", [2, 4]), [2, 3, 1, 2, 3, 1, 2, 3, 1])
        XCTAssertEqual(try pad("constant", [-1, 1]), [2, 3, 0])
        XCTAssertEqual(try pad("edge", [-2, -1]), [])
        assertInvalid { try pad("constant", [-2, -2]) }
        assertInvalid { try pad("mirror", [1, 1]) }
        assertInvalid { try pad("constant", [1]) }
    }

    private func padReference(_ data: HostValue, _ pads: [Int], mode: String, value: Float = 0) -> HostValue {
        let rank = data.shape.count
        let shape = data.shape.indices.map { data.shape[$0] + pads[$0] + pads[$0 + rank] }
        let values = (0..<shape.reduce(1, *)).map { flat -> Float in
            var index = H.multiIndex(flat, shape)
            for axis in 0..<rank {
                let n = data.shape[axis]
                var i = index[axis] - pads[axis]
                switch mode {
                case "edge": i = min(max(i, 0), n - 1)
                case "wrap": i = ((i % n) + n) % n
                case "reflect":
                    // Mirror repeatedly, as numpy.
                    while i < 0 || i >= n { i = i < 0 ? -i : 2 * (n - 1) - i }
                default: if i < 0 || i >= n { return value }
                }
                index[axis] = i
            }
            return data.floats[H.flat(index, data.shape)]
        }
        return HostValue(floats: values, shape: shape)
    }

    func testPadModesND() throws {
        let data = H.random([2, 3, 5, 6], seed: 30)
        for mode in ["constant", "reflect", "edge", "wrap"] {
            for pads in [[0, 0, 2, 3, 0, 0, 4, 1], [0, 1, 1, 0, 1, 0, -1, 5], [1, 0, 0, 2, 0, 2, 3, 0]] {
                let out = try H.run(.pad, [data, H.ints(pads), H.scalar(-2)], ["mode": .string(mode)], threads: 2)[0]
                XCTAssertEqual(out, padReference(data, pads, mode: mode, value: -2), "\(mode) \(pads)")
            }
        }
        // axes input (opset 18): pads for the listed axes only.
        let out = try H.run(.pad, [data, H.ints([1, 2, 3, 4]), nil, H.ints([-1, 2])], ["mode": .string("reflect")])[0]
        XCTAssertEqual(out, padReference(data, [0, 0, 2, 1, 0, 0, 4, 3], mode: "reflect"))
        // The constant may be computed at run time.
        let late = try H.run(.pad, [data, H.ints([0, 0, 1, 1, 0, 0, 1, 1]), H.scalar(7)], unknown: [0, 2])[0]
        XCTAssertEqual(late, padReference(data, [0, 0, 1, 1, 0, 0, 1, 1], mode: "constant", value: 7))
        // Large enough to go parallel.
        let big = H.random([1, 32, 56, 56], seed: 31)
        let bigOut = try H.run(.pad, [big, H.ints([0, 0, 1, 1, 0, 0, 1, 1])], threads: 4)[0]
        XCTAssertEqual(bigOut, padReference(big, [0, 0, 1, 1, 0, 0, 1, 1], mode: "constant"))
        assertInvalid { try H.run(.pad, [data, H.ints([0, 0, 0, Int(Int64.min), 0, 0, 0, 0])]) }
    }

    // MARK: Resize

    /// ONNX's formulas applied per element, without tables.
    private func resizeReference(_ data: HostValue, outShape: [Int], scales: [Float], mode: String,
                                 transform: String, nearest: String = "round_prefer_floor") -> HostValue {
        func coordinate(_ x: Int, _ axis: Int) -> Float {
            let s = scales[axis], lin = Float(data.shape[axis]), lout = Float(outShape[axis]), x = Float(x)
            switch transform {
            case "asymmetric": return x / s
            case "align_corners": return lout == 1 ? 0 : x * (lin - 1) / (lout - 1)
            case "pytorch_half_pixel": return lout > 1 ? (x + 0.5) / s - 0.5 : 0
            case "tf_half_pixel_for_nn": return (x + 0.5) / s
            default: return (x + 0.5) / s - 0.5
            }
        }
        func clampIndex(_ i: Int, _ axis: Int) -> Int { min(max(i, 0), data.shape[axis] - 1) }
        let rank = data.shape.count
        let values = (0..<outShape.reduce(1, *)).map { flat -> Float in
            let out = H.multiIndex(flat, outShape)
            if mode == "nearest" {
                let index = out.enumerated().map { axis, x -> Int in
                    let c = coordinate(x, axis)
                    let f = c.rounded(.down)
                    let r: Float
                    switch nearest {
                    case "floor": r = f
                    case "ceil": r = c.rounded(.up)
                    case "round_prefer_ceil": r = c - f == 0.5 ? f + 1 : c.rounded()
                    default: r = c - f == 0.5 ? f : c.rounded()
                    }
                    return clampIndex(Int(r), axis)
                }
                return data.floats[H.flat(index, data.shape)]
            }
            // Bilinear on the last two axes.
            var index = out
            let cy = coordinate(out[rank - 2], rank - 2), cx = coordinate(out[rank - 1], rank - 1)
            let y0 = Int(cy.rounded(.down)), x0 = Int(cx.rounded(.down))
            var wy = cy - Float(y0), wx = cx - Float(x0)
            func at(_ y: Int, _ x: Int) -> Float {
                index[rank - 2] = clampIndex(y, rank - 2)
                index[rank - 1] = clampIndex(x, rank - 1)
                return data.floats[H.flat(index, data.shape)]
            }
            if cy < 0 { wy = 0 }
            if cx < 0 { wx = 0 }
            let top = (1 - wx) * at(y0, x0) + wx * at(y0, x0 + 1)
            let bottom = (1 - wx) * at(y0 + 1, x0) + wx * at(y0 + 1, x0 + 1)
            return (1 - wy) * top + wy * bottom
        }
        return HostValue(floats: values, shape: outShape)
    }

    private func resize(_ data: HostValue, scales: [Float]? = nil, sizes: [Int]? = nil, _ attributes: [String: Attribute],
                        threads: Int = 1) throws -> HostValue {
        let scaleValue = scales.map { HostValue(floats: $0, shape: [$0.count]) }
        let sizeValue = sizes.map { H.ints($0) }
        return try H.run(.resize, [data, nil, scaleValue, sizeValue], attributes, threads: threads)[0]
    }

    func testResizeONNXBackendCases() throws {
        let square = H.floats([1, 1, 2, 2], [1, 2, 3, 4])
        let nearest = try resize(square, scales: [1, 1, 2, 3], ["mode": .string("nearest")])
        XCTAssertEqual(nearest.shape, [1, 1, 4, 6])
        XCTAssertEqual(nearest.floats, [1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4])
        let linear = try resize(square, scales: [1, 1, 2, 2], ["mode": .string("linear")])
        assertClose(linear.floats, [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4])
        let corners = try resize(square, scales: [1, 1, 2, 2], ["mode": .string("linear"),
                                 "coordinate_transformation_mode": .string("align_corners")])
        assertClose(corners.floats, [1, 4 / 3, 5 / 3, 2, 5 / 3, 2, 7 / 3, 8 / 3, 7 / 3, 8 / 3, 3, 10 / 3, 3, 10 / 3, 11 / 3, 4])
        let wide = H.floats([1, 1, 2, 4], [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertEqual(try resize(wide, scales: [1, 1, 0.6, 0.6], ["mode": .string("nearest")]).floats, [1, 3])
        assertClose(try resize(wide, scales: [1, 1, 0.6, 0.6], ["mode": .string("linear")]).floats, [2.6666665, 4.3333331])
        XCTAssertEqual(try resize(wide, sizes: [1, 1, 1, 3], ["mode": .string("nearest")]).floats, [1, 2, 4])
        let tall = H.floats([1, 1, 4, 4])
        let pytorch = try resize(tall, sizes: [1, 1, 3, 1], ["mode": .string("linear"),
                                 "coordinate_transformation_mode": .string("pytorch_half_pixel")])
        assertClose(pytorch.floats, [0.6666666, 6, 11.333333])  // backend test data minus 1 (ours start at 0)
    }

    func testResizeAgainstReference() throws {
        let data = H.random([2, 3, 5, 7], seed: 40)
        let transforms = ["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel", "tf_half_pixel_for_nn"]
        let roundings = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]
        for transform in transforms {
            for (scales, sizes) in [([Float(1), 1, 2, 3], nil), ([1, 1, 0.5, 0.75], nil), (nil, [2, 3, 9, 4] as [Int]?),
                                    (nil, [2, 3, 1, 14])] {
                let outShape = sizes ?? data.shape.indices.map { Int((Float(data.shape[$0]) * scales![$0]).rounded(.down)) }
                let used = scales ?? outShape.indices.map { Float(outShape[$0]) / Float(data.shape[$0]) }
                if transform != "tf_half_pixel_for_nn" {
                    let out = try resize(data, scales: scales, sizes: sizes, [
                        "mode": .string("linear"), "coordinate_transformation_mode": .string(transform)], threads: 2)
                    let expected = resizeReference(data, outShape: outShape, scales: used, mode: "linear", transform: transform)
                    XCTAssertEqual(out.shape, outShape)
                    assertClose(out.floats, expected.floats)
                }
                for rounding in roundings {
                    let out = try resize(data, scales: scales, sizes: sizes, [
                        "mode": .string("nearest"), "coordinate_transformation_mode": .string(transform),
                        "nearest_mode": .string(rounding)])
                    let expected = resizeReference(data, outShape: outShape, scales: used, mode: "nearest",
                                                   transform: transform, nearest: rounding)
                    XCTAssertEqual(out, expected, "\(transform) \(rounding) \(String(describing: scales)) \(String(describing: sizes))")
                }
            }
        }
    }

    func testResizeVariants() throws {
        let data = H.random([1, 8, 20, 20], seed: 41)
        // Big enough to run in parallel; nearest 2× repeats rows.
        let up = try resize(data, scales: [1, 1, 2, 2], ["mode": .string("nearest")], threads: 4)
        XCTAssertEqual(up, resizeReference(data, outShape: [1, 8, 40, 40], scales: [1, 1, 2, 2], mode: "nearest",
                                           transform: "half_pixel"))
        // axes attribute (opset 18) and keep_aspect_ratio_policy.
        let axes = try resize(data, sizes: [30, 10], ["axes": .ints([2, 3]), "keep_aspect_ratio_policy": .string("not_larger")])
        XCTAssertEqual(axes.shape, [1, 8, 10, 10])
        // Nearest on a channel axis works; linear there is unsupported.
        XCTAssertEqual(try resize(data, scales: [1, 2, 1, 1], [:]).shape, [1, 16, 20, 20])
        XCTAssertThrowsError(try resize(data, scales: [1, 2, 1, 1], ["mode": .string("linear")])) { error in
            guard case SparrowError.unsupported = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try resize(data, scales: [1, 1, 2, 2], ["mode": .string("cubic")])) { error in
            guard case SparrowError.unsupported = error else { return XCTFail("\(error)") }
        }
        assertInvalid { try self.resize(data, scales: [1, 1, 2], [:]) }
        assertInvalid { try self.resize(data, scales: [1, 1, 0, 2], [:]) }
        assertInvalid { try self.resize(data, scales: [1, 1, Float.infinity, 2], [:]) }
        assertInvalid { try self.resize(data, scales: [1, 1, 2, 2], sizes: [1, 8, 40, 40], [:]) }
        assertInvalid { try self.resize(data, [:]) }
        assertInvalid { try self.resize(data, scales: [1, 1, 2, 2], ["mode": .string("bicubic")]) }
        // tf_crop_and_resize: a region of interest, extrapolation outside it.
        let square = H.floats([1, 1, 4, 4])
        let roi = HostValue(floats: [0, 0, 0.4, 0.6, 1, 1, 0.6, 1.2], shape: [8])
        let crop = try H.run(.resize, [square, roi, nil, H.ints([1, 1, 3, 3])], [
            "mode": .string("linear"), "coordinate_transformation_mode": .string("tf_crop_and_resize"),
            "extrapolation_value": .float(-1)])[0]
        // y ∈ {1.2, 1.5, 1.8}, x ∈ {1.8, 2.7, 3.6 (outside)}: v(y, x) = 4y + x.
        assertClose(crop.floats, [6.6, 7.5, -1, 7.8, 8.7, -1, 9, 9.9, -1])
    }

    // MARK: Expand, Gather, ChannelShuffle

    func testExpand() throws {
        let data = H.floats([3, 1], [1, 2, 3])
        let out = try H.run(.expand, [data, H.ints([2, 1, 4])])[0]
        XCTAssertEqual(out.shape, [2, 3, 4])
        XCTAssertEqual(out.floats, (0..<2).flatMap { _ in [1, 2, 3].flatMap { Array(repeating: Float($0), count: 4) } })
        XCTAssertEqual(try H.run(.expand, [data, H.ints([1])])[0].shape, [3, 1])
        assertInvalid { try H.run(.expand, [data, H.ints([2, 2])]) }
        XCTAssertEqual(try H.evaluate(.expand, [H.ints([5]), H.ints([3])])?[0], H.ints([5, 5, 5]))
    }

    func testGatherNegativeIndices() throws {
        let data = H.floats([3, 4])
        let rows = try H.run(.gather, [data, H.ints([-1, 0, -3], shape: [3])])[0]
        XCTAssertEqual(rows.floats, [8, 9, 10, 11, 0, 1, 2, 3, 0, 1, 2, 3])
        let cols = try H.run(.gather, [data, H.ints([-1, 1, 0, -4], shape: [2, 2], dtype: .int32)], ["axis": .int(1)])[0]
        XCTAssertEqual(cols.shape, [3, 2, 2])
        XCTAssertEqual(cols.floats, [3, 1, 0, 0, 7, 5, 4, 4, 11, 9, 8, 8])
        let scalar = try H.run(.gather, [data, H.ints([-2], shape: [])], ["axis": .int(1)])[0]
        XCTAssertEqual(scalar, H.floats([3], [2, 6, 10]))
        // Indices only known when running: out-of-range gives zeros instead of a read outside the input.
        let late = try H.run(.gather, [data, H.ints([2, -1, 7])], unknown: [0, 1])[0]
        XCTAssertEqual(late.floats, [8, 9, 10, 11, 8, 9, 10, 11, 0, 0, 0, 0])
        assertInvalid { try H.run(.gather, [data, H.ints([3])]) }
        assertInvalid { try H.run(.gather, [data, H.ints([-4])]) }
        XCTAssertEqual(try H.evaluate(.gather, [H.ints([1, 3, 224, 224]), H.ints([0], shape: [])])?[0],
                       H.ints([1], shape: []))
    }

    func testChannelShuffleMatchesReshapeTranspose() throws {
        for (shape, group) in [([2, 6, 3, 5], 3), ([1, 12, 4, 4], 4), ([3, 8], 2), ([1, 32, 28, 28], 4)] {
            let data = H.random(shape, seed: UInt64(50 + group))
            let channels = shape[1]
            var split = [shape[0], group, channels / group] + shape[2...]
            let reshaped = try H.run(.reshape, [data, H.ints(split)])[0]
            var perm = Array(0..<split.count)
            perm.swapAt(1, 2)
            let transposed = try H.run(.transpose, [reshaped], ["perm": .ints(perm.map { Int64($0) })])[0]
            split = shape
            let expected = try H.run(.reshape, [transposed, H.ints(split)])[0]
            let out = try H.run(.channelShuffle, [data], ["group": .int(Int64(group))], threads: 2)[0]
            XCTAssertEqual(out, expected, "\(shape) group \(group)")
        }
        assertInvalid { try H.run(.channelShuffle, [H.floats([1, 6, 2, 2])], ["group": .int(4)]) }
        assertInvalid { try H.run(.channelShuffle, [H.floats([1, 6, 2, 2])], ["group": .int(0)]) }
    }

    func testHostileShapesThrowInsteadOfTrapping() {
        let data = H.floats([2, 3])
        let huge = Int(Int64.max / 2)
        assertInvalid { try H.run(.expand, [data, H.ints([huge, huge, 3])]) }
        assertInvalid { try H.run(.reshape, [data, H.ints([huge, 0])]) }
        assertInvalid { try H.run(.pad, [data, H.ints([huge, 0, huge, 0])]) }
        assertInvalid { try H.run(.resize, [H.floats([1, 1, 2, 2]), nil, HostValue(floats: [1, 1, 1e30, 1e30], shape: [4])]) }
        assertInvalid { try H.run(.unsqueeze, [data, H.ints([0, 0])]) }
        assertInvalid { try H.run(.slice, [data, H.ints([0]), H.ints([1]), H.ints([Int(Int64.min)])]) }
    }
}
