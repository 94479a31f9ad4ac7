import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import Sparrow

final class NormalizationOpsTests: XCTestCase {
    typealias R = OpRunner

    // MARK: BatchNormalization

    func testBatchNormalizationWithKnownAndRunTimeParameters() throws {
        for shape in [[2, 3, 5, 7], [4, 6], [1, 5, 33], [2, 16, 32, 33]] {
            let channels = shape[1]
            let x = R.random(shape, seed: 1, low: -3, high: 3)
            let scale = R.random([channels], seed: 2, low: 0.5, high: 2)
            let bias = R.random([channels], seed: 3)
            let mean = R.random([channels], seed: 4)
            let variance = R.random([channels], seed: 5, low: 0.1, high: 3)
            let epsilon: Float = 1e-3
            let inner = shape.dropFirst(2).reduce(1, *)
            let expected = (0..<x.count).map { i -> Float in
                let c = (i / inner) % channels
                let normalized = (Double(x.floats[i]) - Double(mean.floats[c])) / (Double(variance.floats[c]) + Double(epsilon)).squareRoot()
                return Float(normalized * Double(scale.floats[c]) + Double(bias.floats[c]))
            }
            let inputs = [x, scale, bias, mean, variance]
            for known: Set<Int> in [[1, 2, 3, 4], []] {
                for threads in [1, 2] {
                    let output = try R.run(.batchNormalization, inputs, ["epsilon": .float(epsilon)], known: known, threads: threads)[0]
                    XCTAssertEqual(output.shape, shape)
                    R.assertClose(output.floats, expected, relative: 1e-5, absolute: 1e-5, "\(shape) known \(known)")
                }
            }
        }
        let x = R.random([1, 3, 2, 2], seed: 6)
        R.assertThrows("invalid") { try R.infer(.batchNormalization, [x, R.floats([1, 1]), R.floats([0, 0, 0]), R.floats([0, 0, 0]), R.floats([1, 1, 1])]) }
        R.assertThrows("unsupported") {
            try R.infer(.batchNormalization, [x, R.floats([1, 1, 1]), R.floats([0, 0, 0]), R.floats([0, 0, 0]), R.floats([1, 1, 1])],
                        ["training_mode": .int(1)])
        }
    }

    // MARK: Softmax, LogSoftmax

    private func softmaxReference(_ x: HostValue, axis: Int, log: Bool) -> [Float] {
        let shape = x.shape
        let axis = axis < 0 ? axis + shape.count : axis
        let outer = shape[..<axis].reduce(1, *)
        let length = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        var result = [Float](repeating: 0, count: x.count)
        for o in 0..<outer {
            for i in 0..<inner {
                let indices = (0..<length).map { (o * length + $0) * inner + i }
                let maximum = indices.map { Double(x.floats[$0]) }.max()!
                let sum = indices.reduce(0.0) { $0 + Glibc.exp(Double(x.floats[$1]) - maximum) }
                for index in indices {
                    let shifted = Double(x.floats[index]) - maximum
                    result[index] = Float(log ? shifted - Glibc.log(sum) : Glibc.exp(shifted) / sum)
                }
            }
        }
        return result
    }

    func testSoftmaxAndLogSoftmaxAlongEveryAxis() throws {
        let cases: [([Int], [Int])] = [([3, 5, 7], [-1, 0, 1, 2, -3]), ([2, 1003], [-1, 0]), ([4, 19, 3], [1]), ([6], [0]), ([2, 3, 1], [2])]
        for (shape, axes) in cases {
            let x = R.random(shape, seed: 7, low: -20, high: 20)
            for axis in axes {
                for (kind, log) in [(OpKind.softmax, false), (.logSoftmax, true)] {
                    let output = try R.run(kind, [x], ["axis": .int(Int64(axis))])[0]
                    XCTAssertEqual(output.shape, shape)
                    R.assertClose(output.floats, softmaxReference(x, axis: axis, log: log), relative: 2e-6, absolute: log ? 1e-6 : 1e-7,
                                  "\(kind) \(shape) axis \(axis)")
                }
            }
        }
        // Default axis is the last one.
        let x = R.random([3, 4], seed: 8)
        XCTAssertEqual(try R.run(.softmax, [x])[0].floats, try R.run(.softmax, [x], ["axis": .int(-1)])[0].floats)
        R.assertThrows("invalid") { try R.infer(.softmax, [x], ["axis": .int(2)]) }
    }

    func testSoftmaxIsNumericallyStable() throws {
        let x = R.floats([1000, 1001, 1002, -1000, 88, 89, 90, 0, 1e30, -1e30, 3, 3], [3, 4])
        let softmax = try R.run(.softmax, [x])[0].floats
        XCTAssertFalse(softmax.contains { $0.isNaN || $0.isInfinite })
        R.assertClose(Array(softmax[0..<4]), [0.09003057, 0.24472847, 0.66524096, 0], relative: 1e-6, absolute: 1e-30)
        XCTAssertEqual(softmax[8], 1)
        XCTAssertEqual(softmax[9], 0)
        let log = try R.run(.logSoftmax, [x])[0].floats
        XCTAssertEqual(log[0], -2.4076059, accuracy: 1e-5)
        XCTAssertEqual(log[3], -2002.4076, accuracy: 1e-2)
    }

    func testSoftmaxWithTwoThreadsMatchesSingleThread() throws {
        for (shape, axis) in [([8, 5000], -1), ([3, 20_000], 0), ([2, 7, 4099], 1)] {
            let x = R.random(shape, seed: 9, low: -5, high: 5)
            for kind in [OpKind.softmax, .logSoftmax] {
                let single = try R.run(kind, [x], ["axis": .int(Int64(axis))])[0].floats
                let threaded = try R.run(kind, [x], ["axis": .int(Int64(axis))], threads: 2)[0].floats
                XCTAssertEqual(single, threaded, "\(kind) \(shape)")
            }
        }
    }

    // MARK: Reduce

    private func reduceReference(_ x: HostValue, axes: [Int], keepDims: Bool, kind: OpKind) -> (shape: [Int], values: [Float]) {
        let rank = x.shape.count
        let reduced = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
        let keptShape = x.shape.enumerated().map { reduced.contains($0.offset) ? 1 : $0.element }
        var sums = [Double](repeating: 0, count: keptShape.reduce(1, *))
        var maxima = [Float](repeating: -.infinity, count: sums.count)
        for flat in 0..<x.count {
            var rest = flat
            var target = 0
            var step = 1
            for axis in (0..<rank).reversed() {
                let coordinate = rest % x.shape[axis]
                rest /= x.shape[axis]
                if !reduced.contains(axis) { target += coordinate * step }
                step *= keptShape[axis]
            }
            sums[target] += Double(x.floats[flat])
            maxima[target] = Swift.max(maxima[target], x.floats[flat])
        }
        let count = Double(x.count / Swift.max(sums.count, 1))
        let values: [Float]
        switch kind {
        case .reduceSum: values = sums.map { Float($0) }
        case .reduceMean: values = sums.map { Float($0 / count) }
        default: values = maxima
        }
        let shape = keepDims ? keptShape : x.shape.enumerated().filter { !reduced.contains($0.offset) }.map(\.element)
        return (shape, values)
    }

    func testReduceOverAxisCombinations() throws {
        let x = R.random([2, 3, 4, 5], seed: 10, low: -4, high: 4)
        let axesCases: [[Int]] = [[1], [-1], [2, 3], [0, 2], [0, 3], [1, 2], [0], [0, 1, 2, 3], [3, 1], [-4, -2]]
        for kind in [OpKind.reduceSum, .reduceMean, .reduceMax] {
            for axes in axesCases {
                for keepDims in [true, false] {
                    let expected = reduceReference(x, axes: axes, keepDims: keepDims, kind: kind)
                    let output = try R.run(kind, [x, R.ints(axes.map(Int64.init))], ["keepdims": .int(keepDims ? 1 : 0)], known: [1])[0]
                    XCTAssertEqual(output.shape, expected.shape, "\(kind) axes \(axes) keepdims \(keepDims)")
                    R.assertClose(output.floats, expected.values, relative: 1e-5, absolute: 1e-5, "\(kind) axes \(axes)")
                }
            }
            // No axes: everything, unless noop_with_empty_axes makes it an identity.
            let all = try R.run(kind, [x])[0]
            XCTAssertEqual(all.shape, [1, 1, 1, 1])
            R.assertClose(all.floats, reduceReference(x, axes: [0, 1, 2, 3], keepDims: true, kind: kind).values, relative: 1e-5, absolute: 1e-5)
            let empty = try R.run(kind, [x, R.ints([])], ["keepdims": .int(0)], known: [1])[0]
            XCTAssertEqual(empty.shape, [])
            let identity = try R.run(kind, [x], ["noop_with_empty_axes": .int(1)])[0]
            XCTAssertEqual(identity.shape, x.shape)
            XCTAssertEqual(identity.floats, x.floats)
            // Older opsets' axes attribute.
            XCTAssertEqual(try R.run(kind, [x], ["axes": .ints([1])])[0].floats,
                           try R.run(kind, [x, R.ints([1])], known: [1])[0].floats)
        }
    }

    func testReduceLargeWithTwoThreads() throws {
        let x = R.random([4, 64, 33, 35], seed: 11)
        for axes in [[2, 3], [1], [0, 2]] {
            for kind in [OpKind.reduceMean, .reduceMax] {
                let single = try R.run(kind, [x, R.ints(axes.map(Int64.init))], known: [1])[0].floats
                let threaded = try R.run(kind, [x, R.ints(axes.map(Int64.init))], known: [1], threads: 2)[0].floats
                XCTAssertEqual(single, threaded, "\(kind) \(axes)")
                R.assertClose(threaded, reduceReference(x, axes: axes, keepDims: true, kind: kind).values, relative: 1e-4, absolute: 1e-5)
            }
        }
    }

    func testReduceOnIntegersAndMalformedAxes() throws {
        let shape = R.ints([1, 3, 224, 224])
        XCTAssertEqual(try R.evaluate(.reduceSum, [shape, R.ints([0])], ["keepdims": .int(0)])?[0].ints, [452])
        XCTAssertEqual(try R.evaluate(.reduceMax, [shape, R.ints([0])])?[0].ints, [224])
        let matrix = R.ints([1, 2, 3, 4, 5, 6], [2, 3])
        XCTAssertEqual(try R.evaluate(.reduceSum, [matrix, R.ints([0])])?[0].ints, [5, 7, 9])
        XCTAssertEqual(try R.evaluate(.reduceMean, [matrix, R.ints([1])])?[0].ints, [2, 5])
        let x = R.random([2, 3], seed: 12)
        R.assertThrows("invalid") { try R.infer(.reduceSum, [x, R.ints([1, -1])], known: [1]) }
        R.assertThrows("invalid") { try R.infer(.reduceSum, [x, R.ints([2])], known: [1]) }
        R.assertThrows("unsupported") { try R.infer(.reduceSum, [x, R.ints([1])]) }
    }
}
