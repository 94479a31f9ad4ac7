import Foundation
import MallocCounter
import XCTest
@testable import Sparrow

/// Planning, arena reuse, allocation-free runs, plan caching and concurrent sessions.
final class SessionTests: XCTestCase {
    /// conv3x3(pad 1, relu) → conv1x1 → depthwise 3x3/2 (relu6) → reshape → gemm, with a symbolic batch.
    static func model() throws -> Model {
        var g = ModelBuilder()
        let x = g.input("x", [.symbolic("N"), .fixed(3), .fixed(10), .fixed(10)])
        let w1 = g.constant("w1", [8, 3, 3, 3], seed: 1)
        let b1 = g.constant("b1", [8], seed: 2)
        let h1 = g.value("h1")
        g.node(.conv, "conv1", [x, w1, b1], [h1], ["pads": .ints([1, 1, 1, 1]), "activation": .int(1)])
        let w2 = g.constant("w2", [16, 8, 1, 1], seed: 3)
        let h2 = g.value("h2")
        g.node(.conv, "conv2", [h1, w2], [h2])
        let w3 = g.constant("w3", [16, 1, 3, 3], seed: 4)
        let h3 = g.value("h3")
        g.node(.conv, "dw", [h2, w3], [h3], ["group": .int(16), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]),
                                            "activation": .int(2), "activation_alpha": .float(0), "activation_beta": .float(6)])
        let shape = g.constant("shape", [2], ints: [0, -1])
        let flat = g.value("flat")
        g.node(.reshape, "flatten", [h3, shape], [flat])
        let w4 = g.constant("w4", [5, 400], seed: 5)
        let y = g.value("y")
        g.node(.gemm, "fc", [flat, w4], [y], ["transB": .int(1)])
        g.outputs = [y]
        return try Model(bytes: g.encode())
    }

    /// No allocation in `run(_:into:)`, with one thread and with a pool.
    func testRunAllocatesNothing() throws {
        try XCTSkipIf(malloc_counter_available() == 0, "allocation counting is off under sanitizers")
        let model = try Self.model()
        for threads in [1, 2] {
            let session = try Session(model: model, threads: threads, inputShapes: ["x": [2, 3, 10, 10]])
            let inputs = [try Tensor(shape: [2, 3, 10, 10], floats: (0..<600).map { Float($0 % 17) / 17 })]
            var outputs = [Tensor(zeros: [2, 5])]
            try session.run(inputs, into: &outputs)
            malloc_counter_start()
            for _ in 0..<5 { try session.run(inputs, into: &outputs) }
            let allocations = malloc_counter_stop()
            XCTAssertEqual(allocations, 0, "run(_:into:) allocated \(allocations) times with \(threads) threads")
        }
    }

    /// Tensors large enough that every splitting helper (element passes, row ranges, layout copies, im2col,
    /// depthwise, the GEMM epilogue, band-parallel convolution with groups) hands work to the second thread.
    static func largeModel() throws -> Model {
        var g = ModelBuilder()
        let x = g.input("x", [.fixed(1), .fixed(16), .fixed(64), .fixed(64)])
        func value(_ name: String) -> Int { g.value(name) }
        let w1 = g.constant("w1", [16, 16, 3, 3], seed: 1)
        let b1 = g.constant("b1", [16], seed: 2)
        let conv = value("conv")
        g.node(.conv, "conv", [x, w1, b1], [conv], ["pads": .ints([1, 1, 1, 1]), "activation": .int(1)])
        let wd = g.constant("wd", [16, 1, 3, 3], seed: 3)
        let dw = value("dw")
        g.node(.conv, "dw", [conv, wd], [dw], ["group": .int(16), "pads": .ints([1, 1, 1, 1])])
        let wg = g.constant("wg", [16, 8, 3, 3], seed: 8)
        let grouped = value("grouped")
        g.node(.conv, "grouped", [dw, wg], [grouped], ["group": .int(2), "pads": .ints([1, 1, 1, 1]), "activation": .int(1)])
        let sum = value("sum")
        g.node(.add, "add", [grouped, x], [sum])
        let scale = g.constant("scale", [16], seed: 4), shift = g.constant("shift", [16], seed: 5)
        let mean = g.constant("mean", [16], seed: 6)
        let variance = g.constant("variance", [16], (0..<16).map { 1 + Float($0) / 16 })
        let bn = value("bn")
        g.node(.batchNormalization, "bn", [sum, scale, shift, mean, variance], [bn])
        let relu = value("relu")
        g.node(.sigmoid, "sigmoid", [bn], [relu])
        let joined = value("joined")
        g.node(.concat, "concat", [relu, x], [joined], ["axis": .int(1)])
        let pooled = value("pooled")
        g.node(.maxPool, "pool", [joined], [pooled], ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])])
        let turned = value("turned")
        g.node(.transpose, "transpose", [pooled], [turned], ["perm": .ints([0, 1, 3, 2])])
        let pads = g.constant("pads", [8], ints: [0, 0, 1, 1, 0, 0, 1, 1])
        let padded = value("padded")
        g.node(.pad, "pad", [turned, pads], [padded])
        let soft = value("soft")
        g.node(.softmax, "softmax", [padded], [soft], ["axis": .int(2)])
        let w2 = g.constant("w2", [16, 32, 1, 1], seed: 7)
        let projected = value("projected")
        g.node(.conv, "project", [soft, w2], [projected], ["activation": .int(1)])
        let y = value("y")
        g.node(.globalAveragePool, "gap", [projected], [y])
        g.outputs = [y]
        return try Model(bytes: g.encode())
    }

    func testThreadedRunOfLargeTensorsAllocatesNothing() throws {
        try XCTSkipIf(malloc_counter_available() == 0, "allocation counting is off under sanitizers")
        let model = try Self.largeModel()
        let input = try Tensor(shape: [1, 16, 64, 64], floats: (0..<65_536).map { Float($0 % 29) / 29 - 0.5 })
        let inputs = [input]
        let reference = try Session(model: model, threads: 1).run(inputs)
        let session = try Session(model: model, threads: 2)
        var outputs = try session.run(inputs)
        XCTAssertEqual(outputs[0].shape, [1, 16, 1, 1])
        for (a, b) in zip(outputs[0].floats, reference[0].floats) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
        malloc_counter_start()
        for _ in 0..<3 { try session.run(inputs, into: &outputs) }
        let allocations = malloc_counter_stop()
        XCTAssertEqual(allocations, 0, "run(_:into:) allocated \(allocations) times with 2 threads")
    }

    func testArenaReusesBuffersAndPlansAreCachedPerShape() throws {
        let model = try Self.model()
        let session = try Session(model: model)
        XCTAssertEqual(session.arenaBytes, 0, "symbolic batch: no plan before the first run")
        let one = try session.run([Tensor(zeros: [1, 3, 10, 10])])
        XCTAssertEqual(one[0].shape, [1, 5])
        XCTAssertLessThan(session.arenaBytes, session.unsharedActivationBytes)
        let three = try session.run([Tensor(zeros: [3, 3, 10, 10])])
        XCTAssertEqual(three[0].shape, [3, 5])
        XCTAssertEqual(session.plannedStepCount, 5)
        let again = try session.run([Tensor(zeros: [1, 3, 10, 10])])
        XCTAssertEqual(again[0].floats, one[0].floats)
    }

    func testSessionsRunConcurrentlyOnOneModel() throws {
        let model = try Self.model()
        let input = try Tensor(shape: [1, 3, 10, 10], floats: (0..<300).map { Float($0) / 300 })
        let reference = try Session(model: model).run([input])[0].floats
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var values: [[Float]] = []
            func append(_ y: [Float]) {
                lock.lock()
                values.append(y)
                lock.unlock()
            }
        }
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            guard let session = try? Session(model: model) else { return }
            for _ in 0..<20 {
                if let y = try? session.run([input])[0].floats { results.append(y) }
            }
        }
        XCTAssertEqual(results.values.count, 80)
        for y in results.values { XCTAssertEqual(y, reference) }
    }
}
