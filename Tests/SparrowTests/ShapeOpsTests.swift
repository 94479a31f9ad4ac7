import XCTest
@testable import Sparrow

final class ShapeOpsTests: XCTestCase {
    typealias H = OpHarness

    private func shapeOnly(_ shape: [Int]) -> OpContext {
        // Shape sees only the input's type: its value is unknown, as for any run-time activation.
        OpContext(node: H.node(.shape, inputs: [H.floats([1])], outputs: 1, attributes: [:]),
                  inputs: [TensorType(.float32, shape)], values: [nil])
    }

    func testShapeEvaluatesFromTypeOnly() throws {
        let op = OperatorRegistry.lookup(.shape)!
        XCTAssertEqual(try op.evaluate(shapeOnly([1, 3, 224, 224]))?[0], H.ints([1, 3, 224, 224]))
        func sliced(_ attributes: [String: Attribute]) throws -> HostValue? {
            let context = OpContext(node: H.node(.shape, inputs: [H.floats([1])], outputs: 1, attributes: attributes),
                                    inputs: [TensorType(.float32, [2, 3, 4, 5])], values: [nil])
            return try op.evaluate(context)?[0]
        }
        XCTAssertEqual(try sliced(["start": .int(1)]), H.ints([3, 4, 5]))
        XCTAssertEqual(try sliced(["start": .int(-2), "end": .int(100)]), H.ints([4, 5]))
        XCTAssertEqual(try sliced(["start": .int(-100), "end": .int(-3)]), H.ints([2]))
        XCTAssertEqual(try sliced(["start": .int(3), "end": .int(1)]), H.ints([]))
        // Prepared anyway, the kernel writes the same dims.
        XCTAssertEqual(try H.run(.shape, [H.floats([2, 0, 7])])[0], H.ints([2, 0, 7]))
    }

    /// Shape → Gather → Unsqueeze → Concat → Reshape, as PyTorch exports `x.view(x.size(0), -1)`.
    func testShapeSubgraphFoldsCompletely() throws {
        let activation = shapeOnly([8, 64, 7, 7])
        let shape = try OperatorRegistry.lookup(.shape)!.evaluate(activation)![0]
        let batch = try XCTUnwrap(H.evaluate(.gather, [shape, H.ints([0], shape: [])], ["axis": .int(0)]))[0]
        XCTAssertEqual(batch, H.ints([8], shape: []))
        let unsqueezed = try XCTUnwrap(H.evaluate(.unsqueeze, [batch, H.ints([0])]))[0]
        XCTAssertEqual(unsqueezed, H.ints([8]))
        let target = try XCTUnwrap(H.evaluate(.concat, [unsqueezed, H.ints([-1])], ["axis": .int(0)]))[0]
        XCTAssertEqual(target, H.ints([8, -1]))
        let flattened = try H.run(.reshape, [H.floats([8, 64, 7, 7]), target])[0]
        XCTAssertEqual(flattened.shape, [8, 3136])
        // Shape → Slice → Concat (spatial dims of an upsample target) also folds.
        let spatial = try XCTUnwrap(H.evaluate(.slice, [shape, H.ints([2]), H.ints([4])]))[0]
        let doubled = try XCTUnwrap(H.evaluate(.concat, [H.ints([8, 64]), spatial], ["axis": .int(0)]))[0]
        XCTAssertEqual(doubled, H.ints([8, 64, 7, 7]))
        // Unknown data: no evaluation, the planner runs the kernel.
        XCTAssertNil(try OperatorRegistry.lookup(.gather)!.evaluate(OpContext(
            node: H.node(.gather, inputs: [H.floats([2]), H.ints([0])], outputs: 1, attributes: [:]),
            inputs: [TensorType(.float32, [2]), TensorType(.int64, [1])], values: [nil, H.ints([0])])))
    }

    func testRange() throws {
        XCTAssertEqual(try H.evaluate(.range, [H.ints([1], shape: []), H.ints([10], shape: []), H.ints([3], shape: [])])?[0],
                       H.ints([1, 4, 7]))
        XCTAssertEqual(try H.evaluate(.range, [H.ints([10], shape: []), H.ints([1], shape: []), H.ints([-4], shape: [])])?[0],
                       H.ints([10, 6, 2]))
        XCTAssertEqual(try H.evaluate(.range, [H.ints([5], shape: []), H.ints([1], shape: []), H.ints([1], shape: [])])?[0],
                       H.ints([]))
        let floats = try H.evaluate(.range, [H.scalar(0.5), H.scalar(2), H.scalar(0.5)])?[0]
        XCTAssertEqual(floats, H.floats([3], [0.5, 1, 1.5]))
        let int32 = try H.evaluate(.range, [H.ints([0], shape: [], dtype: .int32), H.ints([3], shape: [], dtype: .int32),
                                            H.ints([1], shape: [], dtype: .int32)])?[0]
        XCTAssertEqual(int32, H.ints([0, 1, 2], dtype: .int32))
        XCTAssertThrowsError(try H.evaluate(.range, [H.ints([0], shape: []), H.ints([3], shape: []), H.ints([0], shape: [])]))
        XCTAssertThrowsError(try H.evaluate(.range, [H.ints([0], shape: []), H.ints([3], shape: []), H.scalar(1)]))
        XCTAssertThrowsError(try H.evaluate(.range, [H.ints([Int(Int64.min)], shape: []), H.ints([Int(Int64.max)], shape: []),
                                                     H.ints([1], shape: [])]))
    }

    func testConstantOfShape() throws {
        XCTAssertEqual(try H.evaluate(.constantOfShape, [H.ints([2, 3])])?[0], H.floats([2, 3], Array(repeating: 0, count: 6)))
        XCTAssertEqual(try H.evaluate(.constantOfShape, [H.ints([2])], ["value": .int(7)])?[0], H.ints([7, 7]))
        let typed = try H.evaluate(.constantOfShape, [H.ints([3])],
                                   ["value": .float(1.5), "dtype": .int(Int64(DType.int32.rawValue))])?[0]
        XCTAssertEqual(typed, H.ints([1, 1, 1], dtype: .int32))
        XCTAssertEqual(try H.evaluate(.constantOfShape, [H.ints([])], ["value": .floats([2])])?[0], H.floats([], [2]))
        let kernel = try H.run(.constantOfShape, [H.ints([2, 2])], ["value": .float(-3)], unknown: [])[0]
        XCTAssertEqual(kernel, H.floats([2, 2], [-3, -3, -3, -3]))
        let half = try H.run(.constantOfShape, [H.ints([3])], ["value": .float(0.1), "dtype": .int(2)], unknown: [])[0]
        XCTAssertEqual(half.floats, Array(repeating: Float(halfBits: Float(0.1).halfBits), count: 3))
        XCTAssertThrowsError(try H.evaluate(.constantOfShape, [H.ints([-1])]))
        XCTAssertThrowsError(try H.evaluate(.constantOfShape, [H.ints([2])], ["dtype": .int(99)]))
        XCTAssertThrowsError(try H.evaluate(.constantOfShape, [H.ints([Int(Int64.max), 2])]))
    }

    func testCast() throws {
        let floats = H.floats([5], [1.7, -2.9, 300, .nan, 0])
        func cast(_ value: HostValue, _ to: DType) throws -> HostValue? {
            try H.evaluate(.cast, [value], ["to": .int(Int64(to.rawValue))])?[0]
        }
        XCTAssertEqual(try cast(floats, .int64), H.ints([1, -2, 300, 0, 0]))
        XCTAssertEqual(try cast(floats, .int8), H.ints([1, -2, 127, 0, 0], dtype: .int8))
        XCTAssertEqual(try cast(floats, .bool)?.ints, [1, 1, 1, 1, 0])
        XCTAssertEqual(try cast(H.ints([300, -1]), .uint8), H.ints([44, 255], dtype: .uint8))
        XCTAssertEqual(try cast(H.ints([3, -1]), .float32), H.floats([2], [3, -1]))
        XCTAssertEqual(try cast(H.floats([1], [0.1]), .float16)?.floats, [Float(halfBits: Float(0.1).halfBits)])
        XCTAssertThrowsError(try cast(floats, DType(rawValue: 1)!).map { _ in () }.flatMap { _ in
            try H.evaluate(.cast, [floats], ["to": .int(0)]) })
        // Run time: same conversions by the kernel.
        let data = H.random([2, 9], seed: 60)
        for target in DType.allCases {
            let run = try H.run(.cast, [data], ["to": .int(Int64(target.rawValue))])[0]
            XCTAssertEqual(run, try cast(data, target), "\(target)")
            let back = try H.run(.cast, [run], ["to": .int(1)])[0]
            XCTAssertEqual(back, try cast(run, .float32), "\(target) back")
        }
    }
}
