import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import Sparrow

/// Runs one operator the way the planner does, for the elementwise, activation, pooling and normalization
/// tests: `evaluate` with all inputs known, or infer → workspace → prepare → kernel on run-time buffers.
enum OpRunner {
    static func context(_ kind: OpKind, _ inputs: [HostValue?], known: Set<Int>, outputs: Int,
                        _ attributes: [String: Attribute]) -> OpContext {
        let node = NodeDecl(op: kind, name: "\(kind.name)-under-test",
                            inputs: inputs.indices.map { inputs[$0] == nil ? nil : $0 },
                            outputs: (0..<outputs).map { inputs.count + $0 }, attributes: attributes)
        return OpContext(node: node, inputs: inputs.map { $0?.type },
                         values: inputs.enumerated().map { known.contains($0.offset) ? $0.element : nil })
    }

    /// Plan-time evaluation with every input known.
    static func evaluate(_ kind: OpKind, _ inputs: [HostValue?], _ attributes: [String: Attribute] = [:]) throws -> [HostValue]? {
        let known = Set(inputs.indices)
        return try OperatorRegistry.lookup(kind)!.evaluate(context(kind, inputs, known: known, outputs: 1, attributes))
    }

    /// Output types from `infer`.
    static func infer(_ kind: OpKind, _ inputs: [HostValue?], _ attributes: [String: Attribute] = [:],
                      known: Set<Int> = []) throws -> [TensorType] {
        try OperatorRegistry.lookup(kind)!.infer(context(kind, inputs, known: known, outputs: 1, attributes))
    }

    /// Runs the kernel. Inputs in `known` are also given to the op as plan-time values (as constants are).
    static func run(_ kind: OpKind, _ inputs: [HostValue?], _ attributes: [String: Attribute] = [:],
                    known: Set<Int> = [], outputs: Int = 1, threads: Int = 1) throws -> [HostValue] {
        let op = OperatorRegistry.lookup(kind)!
        let context = context(kind, inputs, known: known, outputs: outputs, attributes)
        let types = try op.infer(context)
        var blocks: [UnsafeMutableRawPointer] = []
        defer { for block in blocks { block.deallocate() } }
        func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
            let block = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64)
            // Poison (a NaN pattern for floats), so that an element the kernel forgets shows up.
            block.initializeMemory(as: UInt8.self, repeating: 0xFF, count: max(bytes, 64))
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

    /// Deterministic pseudo-random floats in [low, high) (SplitMix64), never the clock.
    static func random(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> HostValue {
        var state = seed
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return low + (high - low) * Float(z >> 40) / Float(1 << 24)
        }
        return HostValue(floats: values, shape: shape)
    }

    static func floats(_ values: [Float], _ shape: [Int]? = nil) -> HostValue {
        HostValue(floats: values, shape: shape ?? [values.count])
    }

    static func ints(_ values: [Int64], _ shape: [Int]? = nil, dtype: DType = .int64) -> HostValue {
        HostValue(ints: values, shape: shape ?? [values.count], dtype: dtype)
    }

    /// Flat index into an operand of `shape` read by output element `flat` of `output` (NumPy rules),
    /// written independently of `Broadcast`.
    static func broadcastIndex(_ flat: Int, output: [Int], operand shape: [Int]) -> Int {
        var rest = flat
        var index = 0
        var step = 1
        for axis in (0..<output.count).reversed() {
            let coordinate = rest % output[axis]
            rest /= output[axis]
            let operandAxis = axis - (output.count - shape.count)
            if operandAxis >= 0 {
                let dim = shape[operandAxis]
                if dim != 1 { index += coordinate * step }
                step *= dim
            }
        }
        return index
    }

    static func assertClose(_ actual: [Float], _ expected: [Float], relative: Float = 1e-6, absolute: Float = 1e-6,
                            _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "count \(message)", file: file, line: line)
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            if a.isNaN && e.isNaN { continue }
            if a == e { continue }
            if !(abs(a - e) <= absolute + relative * abs(e)) {
                XCTFail("element \(i): \(a) vs expected \(e) \(message)", file: file, line: line)
                return
            }
        }
    }

    static func assertThrows<T>(_ expected: String, _ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try body()
            XCTFail("expected \(expected) error", file: file, line: line)
        } catch let error as SparrowError {
            switch (error, expected) {
            case (.invalidGraph, "invalid"), (.unsupported, "unsupported"): break
            default: XCTFail("expected \(expected), got \(error)", file: file, line: line)
            }
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
    }
}

final class ElementwiseOpsTests: XCTestCase {
    typealias R = OpRunner

    /// Shape pairs that exercise every broadcast strategy: flat, splat either side, per-channel rows
    /// either side, and the general odometer (both operands broadcast on different axes).
    let shapePairs: [([Int], [Int])] = [
        ([3, 5, 7], [3, 5, 7]),
        ([2, 3, 17], []),
        ([1], [2, 3, 17]),
        ([2, 4, 5, 3], [1, 4, 1, 1]),
        ([4, 1, 1], [2, 4, 3, 5]),
        ([2, 1, 5], [3, 1]),
        ([3, 1, 7], [1, 4, 1]),
        ([2, 3, 4, 5], [3, 1, 5]),
        ([5, 1, 1, 33], [5, 2, 3, 1]),
        ([1, 1], [1]),
        ([0, 3], [1, 3]),
    ]

    private func reference(_ a: HostValue, _ b: HostValue, _ f: (Float, Float) -> Float) -> (shape: [Int], values: [Float]) {
        let shape = Broadcast.shape([a.shape, b.shape])!
        let count = shape.reduce(1, *)
        return (shape, (0..<count).map {
            f(a.floats[R.broadcastIndex($0, output: shape, operand: a.shape)],
              b.floats[R.broadcastIndex($0, output: shape, operand: b.shape)])
        })
    }

    func testBroadcastShapes() {
        XCTAssertEqual(Broadcast.shape([[2, 3, 4], [4]]), [2, 3, 4])
        XCTAssertEqual(Broadcast.shape([[2, 1, 4], [3, 1]]), [2, 3, 4])
        XCTAssertEqual(Broadcast.shape([[], [5]]), [5])
        XCTAssertEqual(Broadcast.shape([[0, 3], [1, 3]]), [0, 3])
        XCTAssertNil(Broadcast.shape([[2, 3], [4, 3]]))
        XCTAssertTrue(Broadcast.broadcasts([3, 1, 1], to: [2, 3, 4, 4]))
        XCTAssertFalse(Broadcast.broadcasts([2, 3, 4, 4], to: [3, 1, 1]))
        R.assertThrows("invalid") { try R.infer(.add, [R.random([2, 3], seed: 1), R.random([4, 3], seed: 2)]) }
        R.assertThrows("invalid") { try R.infer(.add, [R.random([2, 3], seed: 1), R.ints([1, 2, 3])]) }
        R.assertThrows("invalid") { try R.infer(.add, [R.random([2, 3], seed: 1)]) }
    }

    func testArithmeticMatchesScalarReferenceForAllBroadcastForms() throws {
        let ops: [(OpKind, (Float, Float) -> Float)] = [(.add, { $0 + $1 }), (.sub, { $0 - $1 }), (.mul, { $0 * $1 }), (.div, { $0 / $1 })]
        for (kind, f) in ops {
            for (index, (shapeA, shapeB)) in shapePairs.enumerated() {
                let a = R.random(shapeA, seed: UInt64(index), low: -3, high: 3)
                let b = R.random(shapeB, seed: UInt64(index + 100), low: 0.5, high: 2)
                let expected = reference(a, b, f)
                let output = try R.run(kind, [a, b])[0]
                XCTAssertEqual(output.shape, expected.shape, "\(kind) \(shapeA) \(shapeB)")
                R.assertClose(output.floats, expected.values, relative: 0, absolute: 0, "\(kind) \(shapeA) \(shapeB)")
            }
        }
    }

    func testArithmeticOnLargeTensorsWithTwoThreads() throws {
        for (shapeA, shapeB) in [([2, 8, 64, 65], [2, 8, 64, 65]), ([2, 8, 64, 65], [1, 8, 1, 1]),
                                 ([1, 3, 12_007], [1]), ([8, 1, 700], [1, 8, 1])] {
            let a = R.random(shapeA, seed: 7)
            let b = R.random(shapeB, seed: 8)
            let expected = reference(a, b) { $0 * $1 }
            let single = try R.run(.mul, [a, b], threads: 1)[0]
            let threaded = try R.run(.mul, [a, b], threads: 2)[0]
            R.assertClose(single.floats, expected.values, relative: 0, absolute: 0)
            R.assertClose(threaded.floats, expected.values, relative: 0, absolute: 0)
        }
    }

    func testMinMaxAreVariadicAndPropagateNaN() throws {
        let a = R.random([2, 1, 19], seed: 3)
        let b = R.random([3, 1], seed: 4)
        let c = R.random([2, 3, 19], seed: 5)
        for (kind, f) in [(OpKind.min, { (x: Float, y: Float) in Swift.min(x, y) }), (.max, { Swift.max($0, $1) })] {
            let output = try R.run(kind, [a, b, c])[0]
            XCTAssertEqual(output.shape, [2, 3, 19])
            let ab = reference(a, b, f)
            let abc = reference(HostValue(floats: ab.values, shape: ab.shape), c, f)
            R.assertClose(output.floats, abc.values, relative: 0, absolute: 0)
            // One input: a copy.
            XCTAssertEqual(try R.run(kind, [a])[0].floats, a.floats)
            // NaN in either operand wins, in the vector body and in the scalar tail.
            var withNaN = R.random([37], seed: 6)
            withNaN.floats[3] = .nan
            withNaN.floats[35] = .nan
            let other = R.random([37], seed: 9)
            for result in [try R.run(kind, [withNaN, other])[0], try R.run(kind, [other, withNaN])[0]] {
                XCTAssertTrue(result.floats[3].isNaN && result.floats[35].isNaN, "\(kind)")
                XCTAssertFalse(result.floats[4].isNaN)
            }
        }
    }

    func testPowSpecialAndGeneralExponents() throws {
        let base = R.random([3, 41], seed: 11, low: 0.1, high: 3)
        for y: Float in [2, 3, 0.5, -1, 1, 1.7, -2.5] {
            let exponent = R.floats([y], [])
            let expected = base.floats.map { powf($0, y) }
            let output = try R.run(.pow, [base, exponent], known: [1])[0]
            R.assertClose(output.floats, expected, relative: 2e-7, absolute: 0, "exponent \(y)")
            // Exponent at run time: the general kernel.
            R.assertClose(try R.run(.pow, [base, exponent])[0].floats, expected, relative: 0, absolute: 0, "exponent \(y)")
        }
        // Tensor exponent, broadcast; an int64 exponent known at plan time.
        let exponents = R.floats([1, 2, 0.5], [3, 1])
        let expected = reference(base, exponents) { powf($0, $1) }
        R.assertClose(try R.run(.pow, [base, exponents])[0].floats, expected.values, relative: 0, absolute: 0)
        let intExponent = R.ints([2, 3, 1], [3, 1])
        let expectedInt = reference(base, R.floats([2, 3, 1], [3, 1])) { powf($0, $1) }
        R.assertClose(try R.run(.pow, [base, intExponent], known: [1])[0].floats, expectedInt.values, relative: 0, absolute: 0)
        // Annex F corner cases of the x^0.5 fast path.
        let corners = try R.run(.pow, [R.floats([-0.0, -.infinity, 4]), R.floats([0.5], [])], known: [1])[0].floats
        XCTAssertEqual(corners[0].sign, .plus)
        XCTAssertEqual(corners[1], .infinity)
        XCTAssertEqual(corners[2], 2)
        // Integers at plan time.
        XCTAssertEqual(try R.evaluate(.pow, [R.ints([2, -3, 5]), R.ints([3, 3, 0])])?[0].ints, [8, -27, 1])
    }

    func testIntegerEvaluationForShapeArithmetic() throws {
        let a = R.ints([7, -7, 9, 1 << 40], [4])
        let b = R.ints([2], [1])
        XCTAssertEqual(try R.evaluate(.add, [a, b])?[0].ints, [9, -5, 11, (1 << 40) + 2])
        XCTAssertEqual(try R.evaluate(.sub, [a, b])?[0].ints, [5, -9, 7, (1 << 40) - 2])
        XCTAssertEqual(try R.evaluate(.mul, [a, b])?[0].ints, [14, -14, 18, 1 << 41])
        // ONNX integer Div truncates toward zero.
        XCTAssertEqual(try R.evaluate(.div, [a, b])?[0].ints, [3, -3, 4, 1 << 39])
        XCTAssertEqual(try R.evaluate(.min, [a, b, R.ints([0])])?[0].ints, [0, -7, 0, 0])
        XCTAssertEqual(try R.evaluate(.max, [a, b])?[0].ints, [7, 2, 9, 1 << 40])
        XCTAssertEqual(try R.evaluate(.neg, [a])?[0].ints, [-7, 7, -9, -(1 << 40)])
        XCTAssertEqual(try R.evaluate(.abs, [a])?[0].ints, [7, 7, 9, 1 << 40])
        let broadcast = try R.evaluate(.add, [R.ints([1, 2, 3], [3, 1]), R.ints([10, 20], [2])])?[0]
        XCTAssertEqual(broadcast?.shape, [3, 2])
        XCTAssertEqual(broadcast?.ints, [11, 21, 12, 22, 13, 23])
        // int32 wraps as the tensor would store it.
        let wrapped = try R.evaluate(.mul, [R.ints([1 << 30], dtype: .int32), R.ints([4], dtype: .int32)])?[0]
        XCTAssertEqual(wrapped?.dtype, .int32)
        XCTAssertEqual(wrapped?.ints, [0])
        R.assertThrows("invalid") { try R.evaluate(.div, [a, R.ints([0])]) }
        // Floats are left to kernel folding; integer tensors are not executed at run time.
        XCTAssertNil(try R.evaluate(.add, [R.floats([1]), R.floats([2])]))
        R.assertThrows("unsupported") { try R.run(.add, [a, b]) }
        R.assertThrows("unsupported") { try R.run(.neg, [a]) }
    }

    func testEqualAndWhere() throws {
        let a = R.floats([1, 2, 3, 4, 5, 6], [2, 3])
        let b = R.floats([1, 0, 3], [3])
        let equal = try R.run(.equal, [a, b])[0]
        XCTAssertEqual(equal.dtype, .bool)
        XCTAssertEqual(equal.ints, [1, 0, 1, 0, 0, 0])
        XCTAssertEqual(try R.evaluate(.equal, [R.ints([4, 5, 6]), R.ints([5])])?[0].ints, [0, 1, 0])
        XCTAssertEqual(try R.evaluate(.equal, [a, b])?[0].ints, [1, 0, 1, 0, 0, 0])

        let condition = R.ints([1, 0, 0, 1, 1, 0, 1, 0], [2, 1, 4], dtype: .bool)
        let x = R.random([3, 1], seed: 21)
        let y = R.random([1, 3, 4], seed: 22)
        let output = try R.run(.where, [condition, x, y])[0]
        XCTAssertEqual(output.shape, [2, 3, 4])
        let expected = (0..<24).map { i -> Float in
            condition.ints[R.broadcastIndex(i, output: [2, 3, 4], operand: [2, 1, 4])] != 0
                ? x.floats[R.broadcastIndex(i, output: [2, 3, 4], operand: [3, 1])]
                : y.floats[R.broadcastIndex(i, output: [2, 3, 4], operand: [1, 3, 4])]
        }
        XCTAssertEqual(output.floats, expected)
        XCTAssertEqual(try R.evaluate(.where, [R.ints([1, 0], dtype: .bool), R.ints([7]), R.ints([8, 9])])?[0].ints, [7, 9])
        R.assertThrows("invalid") { try R.infer(.where, [R.floats([1]), x, y]) }
    }

    func testUnaryOpsMatchGlibcOnOddLengths() throws {
        let cases: [(OpKind, (Float) -> Float, Float, Float, Float)] = [
            (.sqrt, { $0.squareRoot() }, 0, 100, 0),
            (.exp, { expf($0) }, -90, 90, 2.5e-7),
            (.log, { logf($0) }, 1e-30, 1e6, 2.5e-7),
            (.neg, { -$0 }, -5, 5, 0),
            (.reciprocal, { 1 / $0 }, 0.01, 5, 0),
            (.floor, { floorf($0) }, -1e7, 1e7, 0),
            (.ceil, { ceilf($0) }, -1e7, 1e7, 0),
            (.abs, { Swift.abs($0) }, -5, 5, 0),
        ]
        for (kind, f, low, high, tolerance) in cases {
            for count in [1, 7, 8, 15, 16, 17, 1003] {
                let input = R.random([count], seed: UInt64(count), low: low, high: high)
                let output = try R.run(kind, [input])[0]
                R.assertClose(output.floats, input.floats.map(f), relative: tolerance, absolute: 0, "\(kind) count \(count)")
            }
        }
        let erfInput = R.random([1003], seed: 5, low: -5, high: 5)
        R.assertClose(try R.run(.erf, [erfInput])[0].floats, erfInput.floats.map { erff($0) }, relative: 0, absolute: 1e-6)
        let specials = R.floats([0, -0.0, .infinity, -.infinity, .nan, -2.5, 2.5, 8_388_607.5, -1e30])
        for (kind, f) in [(OpKind.floor, { floorf($0) }), (.ceil, { ceilf($0) }), (.abs, { fabsf($0) }),
                          (.exp, { expf($0) }), (.log, { logf($0) }), (.sqrt, { sqrtf($0) })] as [(OpKind, (Float) -> Float)] {
            let output = try R.run(kind, [specials])[0].floats
            for (value, expected) in zip(output, specials.floats.map(f)) {
                XCTAssertTrue(value == expected && value.sign == expected.sign || value.isNaN && expected.isNaN,
                              "\(kind): \(value) vs \(expected)")
            }
        }
    }

    func testUnaryLargeTensorWithTwoThreads() throws {
        let input = R.random([5, 40_001], seed: 31, low: -10, high: 10)
        let single = try R.run(.exp, [input], threads: 1)[0]
        let threaded = try R.run(.exp, [input], threads: 2)[0]
        XCTAssertEqual(single.floats, threaded.floats)
        R.assertClose(threaded.floats, input.floats.map { expf($0) }, relative: 2.5e-7, absolute: 0)
    }
}
