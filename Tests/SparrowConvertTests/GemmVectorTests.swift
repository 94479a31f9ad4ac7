import XCTest
@testable import Sparrow

/// Gemm with one row takes the matrix-vector path; it must agree with the definition for both B layouts,
/// with alpha, beta and a per-column bias.
final class GemmVectorTests: XCTestCase {
    func testSingleRowGemmMatchesDefinition() throws {
        let k = 37, n = 23
        for transB in [false, true] {
            var g = ModelBuilder()
            let a = g.input("a", [.fixed(1), .fixed(k)])
            let b = g.constant("b", transB ? [n, k] : [k, n], seed: 3)
            let c = g.constant("c", [n], seed: 4)
            let y = g.value("y")
            g.node(.gemm, "fc", [a, b, c], [y], ["transB": .int(transB ? 1 : 0), "alpha": .float(0.5), "beta": .float(2)])
            g.outputs = [y]
            let model = try Model(bytes: g.encode())
            let bs = ConstantDecoder.decodeToFloats(model.graph.tensors[b].storage!, shape: transB ? [n, k] : [k, n], model: model)
            let cs = ConstantDecoder.decodeToFloats(model.graph.tensors[c].storage!, shape: [n], model: model)
            let xs = (0..<k).map { Float($0 % 7) - 3 }
            let out = try Session(model: model).run([Tensor(shape: [1, k], floats: xs)])[0].floats
            for j in 0..<n {
                var sum: Float = 0
                for i in 0..<k { sum += xs[i] * (transB ? bs[j * k + i] : bs[i * n + j]) }
                XCTAssertEqual(out[j], 0.5 * sum + 2 * cs[j], accuracy: 1e-4, "transB \(transB) column \(j)")
            }
        }
    }
}
