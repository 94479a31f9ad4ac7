import Foundation
import Sparrow
import XCTest

@testable import SparrowConvert
@testable import sparrow_cli

/// `sparrow convert --export-masked-onnx`: the source ONNX model with the weights a conversion pruned set to zero.
final class MaskedExportTests: XCTestCase {
    // MARK: Building ONNX models

    /// Seeded SplitMix64, uniform floats in [-1, 1).
    private struct Random {
        var state: UInt64
        mutating func floats(_ count: Int) -> [Float] {
            (0..<count).map { _ in
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                z ^= z >> 31
                return 2 * Float(z >> 40) / Float(1 << 24) - 1
            }
        }
    }

    private static func floats(_ name: String, _ dims: [Int], _ values: [Float], raw: Bool = true) -> Onnx_TensorProto {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = dims.map(Int64.init)
        tensor.dataType = Int32(ONNXElementType.float)
        if raw {
            tensor.rawData = Data(values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } })
        } else {
            tensor.floatData = values
        }
        return tensor
    }

    private static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String,
                             ints: [String: [Int64]] = [:], int: [String: Int64] = [:]) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = op
        node.name = name
        node.input = inputs
        node.output = outputs
        for (key, values) in ints.sorted(by: { $0.key < $1.key }) {
            var a = Onnx_AttributeProto(); a.name = key; a.type = .ints; a.ints = values
            node.attribute.append(a)
        }
        for (key, value) in int.sorted(by: { $0.key < $1.key }) {
            var a = Onnx_AttributeProto(); a.name = key; a.type = .int; a.i = value
            node.attribute.append(a)
        }
        return node
    }

    private static func valueInfo(_ name: String, _ dims: [Int64]) -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = name
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = Int32(ONNXElementType.float)
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map { var d = Onnx_TensorShapeProto.Dimension(); d.dimValue = $0; return d }
        tensorType.shape = shape
        info.type.tensorType = tensorType
        return info
    }

    private static func model(_ graph: Onnx_GraphProto) -> Onnx_ModelProto {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 17
        model.opsetImport = [opset]
        model.producerName = "masked-export-tests"
        model.graph = graph
        return model
    }

    /// The prunable weights of `smallCNN` with their element counts.
    static let weights = ["w1": 288, "w2": 64, "wfc": 48, "wmm": 30]

    /// x [1, 4, 8, 8] → conv1 (3×3, raw_data) → BatchNormalization → Relu → conv2 (1×1, float_data, bias) → Relu
    /// → GlobalAveragePool → Flatten → Gemm (transB = 1) → MatMul → y [1, 5]. Node names exercise the importer's
    /// naming: the Relu and conv2 are both called "block" (conv2 becomes "block_1"), the Gemm and MatMul have none.
    static func smallCNN() -> Onnx_ModelProto {
        var random = Random(state: 42)
        var graph = Onnx_GraphProto()
        graph.name = "small"
        graph.input = [valueInfo("x", [1, 4, 8, 8])]
        graph.output = [valueInfo("y", [1, 5])]
        let channelScale: [Float] = [0.5, 1.5, 0.8, 1.2, 2.0, 0.3, 1.0, 0.9]
        graph.initializer = [
            floats("w1", [8, 4, 3, 3], random.floats(288)),
            floats("bn_scale", [8], channelScale),
            floats("bn_bias", [8], random.floats(8)),
            floats("bn_mean", [8], random.floats(8).map { $0 / 4 }),
            floats("bn_var", [8], random.floats(8).map { 1 + $0 / 2 }),
            floats("w2", [8, 8, 1, 1], random.floats(64), raw: false),
            floats("b2", [8], random.floats(8)),
            floats("wfc", [6, 8], random.floats(48)),
            floats("bfc", [6], random.floats(6)),
            floats("wmm", [6, 5], random.floats(30)),
        ]
        graph.node = [
            node("Conv", ["x", "w1"], ["c1"], name: "conv1", ints: ["pads": [1, 1, 1, 1], "kernel_shape": [3, 3]]),
            node("BatchNormalization", ["c1", "bn_scale", "bn_bias", "bn_mean", "bn_var"], ["n1"], name: "bn1"),
            node("Relu", ["n1"], ["r1"], name: "block"),
            node("Conv", ["r1", "w2", "b2"], ["c2"], name: "block"),
            node("Relu", ["c2"], ["r2"], name: "relu2"),
            node("GlobalAveragePool", ["r2"], ["g"], name: "gap"),
            node("Flatten", ["g"], ["f"], name: "flatten"),
            node("Gemm", ["f", "wfc", "bfc"], ["h"], name: "", int: ["transB": 1]),
            node("MatMul", ["h", "wmm"], ["y"], name: ""),
        ]
        return model(graph)
    }

    // MARK: Helpers

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("masked-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func write(_ model: Onnx_ModelProto, to url: URL) throws {
        try Data(model.serializedBytes() as [UInt8]).write(to: url)
    }

    func run(_ result: ConversionResult) throws -> [Float] {
        let session = try Session(model: try Model(bytes: result.bytes))
        let input = try Tensor(shape: [1, 4, 8, 8], floats: (0..<256).map { Float(($0 * 37) % 101) / 50 - 1 })
        return try session.run([input])[0].floats
    }

    static func values(_ tensor: Onnx_TensorProto) -> [Float] {
        guard tensor.rawData.isEmpty else {
            return tensor.rawData.withUnsafeBytes { raw in
                (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            }
        }
        return tensor.floatData
    }

    static let pruneAll = ConvertOptions(prune: 0.5, pruneSkip: [], sparseFormat: .dense)

    // MARK: Tests

    /// The masked model converted without pruning computes exactly what the pruned conversion computes, and it
    /// differs from the source by exactly the pruned zeros.
    func testMaskedModelIsThePrunedModel() throws {
        let folder = try temporaryDirectory()
        let source = folder.appendingPathComponent("model.onnx")
        let maskedURL = folder.appendingPathComponent("masked.onnx")
        try write(Self.smallCNN(), to: source)

        let pruned = try Converter.convert(onnxAt: source.path, options: Self.pruneAll)
        XCTAssertEqual(pruned.pruningMasks.otherChanges, [])
        XCTAssertEqual(pruned.pruningMasks.masks.count, 4)
        // w1 is renamed by nothing (BatchNorm folding keeps an exclusive weight's name), but found through conv1.
        XCTAssertEqual(Set(pruned.pruningMasks.masks.flatMap { $0.readers.map(\.node) }),
                       ["conv1", "block_1", "Gemm_7", "MatMul_8"])

        let export = try MaskedONNXExport.masked(onnxAt: source.path, masks: pruned.pruningMasks)
        XCTAssertEqual(export.initializerCount, 4)
        XCTAssertEqual(export.zeroedCount, (288 + 64 + 48 + 30) / 2)
        try Data(export.bytes).write(to: maskedURL)

        // Exactly half of each weight is zero now, every other value is bit for bit the source's.
        let before = Dictionary(uniqueKeysWithValues: Self.smallCNN().graph.initializer.map { ($0.name, $0) })
        let after = try Onnx_ModelProto(serializedBytes: export.bytes)
        XCTAssertEqual(after.graph.node, Self.smallCNN().graph.node)
        XCTAssertEqual(after.graph.initializer.map(\.name), Self.smallCNN().graph.initializer.map(\.name))
        for tensor in after.graph.initializer {
            let old = Self.values(before[tensor.name]!), new = Self.values(tensor)
            XCTAssertEqual(old.count, new.count)
            XCTAssertEqual(tensor.rawData.isEmpty, before[tensor.name]!.rawData.isEmpty, "storage of \(tensor.name)")
            let zeroed = zip(old, new).filter { $0.bitPattern != $1.bitPattern }
            XCTAssertTrue(zeroed.allSatisfy { $0.0 != 0 && $0.1.bitPattern == 0 }, tensor.name)
            XCTAssertEqual(zeroed.count, (Self.weights[tensor.name] ?? 0) / 2, tensor.name)
            XCTAssertEqual(new.count(where: { $0 == 0 }), (Self.weights[tensor.name] ?? 0) / 2, tensor.name)
        }

        // Converted without pruning, the masked model has the same zeros and the same outputs, bit for bit.
        let masked = try Converter.convert(onnxAt: maskedURL.path, options: ConvertOptions(sparseFormat: .dense))
        XCTAssertEqual(masked.pruningMasks.masks.count, 0)
        XCTAssertEqual(masked.report.pruning.layers.map(\.zeroCount), pruned.report.pruning.layers.map(\.zeroCount))
        XCTAssertEqual(try run(masked), try run(pruned))

        // Sparse storage: the same zeros, so the same encodings, and outputs within rounding.
        let prunedSparse = try Converter.convert(onnxAt: source.path,
                                                 options: ConvertOptions(prune: 0.5, pruneSkip: [], sparseFormat: .csr))
        let maskedSparse = try Converter.convert(onnxAt: maskedURL.path, options: ConvertOptions(sparseFormat: .csr))
        XCTAssertEqual(maskedSparse.report.pruning.layers.map(\.encoding),
                       prunedSparse.report.pruning.layers.map(\.encoding))
        let reference = try run(pruned), sparse = try run(maskedSparse)
        let scale = reference.map(\.magnitude).max()!
        for (a, b) in zip(sparse, reference) { XCTAssertEqual(a, b, accuracy: 1e-5 * scale) }

        // The same pruning gives the same masked file, whatever the storage.
        XCTAssertEqual(try MaskedONNXExport.masked(onnxAt: source.path, masks: prunedSparse.pruningMasks).bytes,
                       export.bytes)
    }

    /// Without pruning, nothing is masked and the model is written back with the same content.
    func testUnprunedConversionMasksNothing() throws {
        let folder = try temporaryDirectory()
        let source = folder.appendingPathComponent("model.onnx")
        try write(Self.smallCNN(), to: source)
        let result = try Converter.convert(onnxAt: source.path)
        XCTAssertEqual(result.pruningMasks.masks.count, 0)
        let export = try MaskedONNXExport.masked(onnxAt: source.path, masks: result.pruningMasks)
        XCTAssertEqual(export.zeroedCount, 0)
        XCTAssertEqual(try Onnx_ModelProto(serializedBytes: export.bytes), Self.smallCNN())
    }

    /// Two Conv+BatchNorm layers sharing one weight get a folded copy each, pruned differently: no single ONNX
    /// initializer holds both.
    func testRejectsSharedWeightPrunedDifferently() throws {
        var model = Self.smallCNN()
        // conv1b reads w1 too, through a BatchNorm whose channel scales are reversed.
        model.graph.initializer.append(Self.floats("bn_scale_b", [8], [0.3, 2.0, 1.2, 0.8, 0.5, 1.5, 0.9, 1.0]))
        model.graph.node.insert(Self.node("Conv", ["x", "w1"], ["c1b"], name: "conv1b",
                                          ints: ["pads": [1, 1, 1, 1], "kernel_shape": [3, 3]]), at: 2)
        model.graph.node.insert(Self.node("BatchNormalization", ["c1b", "bn_scale_b", "bn_bias", "bn_mean", "bn_var"],
                                          ["n1b"], name: "bn1b"), at: 3)
        model.graph.node.insert(Self.node("Add", ["n1", "n1b"], ["s1"], name: "add"), at: 4)
        model.graph.node[5].input = ["s1"]  // the Relu
        let folder = try temporaryDirectory()
        let source = folder.appendingPathComponent("model.onnx")
        try write(model, to: source)
        let result = try Converter.convert(onnxAt: source.path, options: Self.pruneAll)
        XCTAssertThrowsError(try MaskedONNXExport.masked(onnxAt: source.path, masks: result.pruningMasks)) { error in
            XCTAssertTrue("\(error)".contains("initializer 'w1' is the source of pruned weights"), "\(error)")
            XCTAssertTrue("\(error)".contains("pruned differently"), "\(error)")
        }

        // Pruning one of them only: the other still reads the source initializer unpruned.
        let one = try Converter.convert(onnxAt: source.path, options: ConvertOptions(pruneLayers: ["conv1": 0.5]))
        XCTAssertThrowsError(try MaskedONNXExport.masked(onnxAt: source.path, masks: one.pruningMasks)) { error in
            XCTAssertTrue("\(error)".contains("node 'conv1b' (Conv) also reads it as input 1"), "\(error)")
        }
    }

    /// A weight that is not an initializer in the source (here a Constant node's value) cannot be masked there.
    func testRejectsWeightFromConstantNode() throws {
        var model = Self.smallCNN()
        let index = model.graph.initializer.firstIndex { $0.name == "wmm" }!
        var constant = Self.node("Constant", [], ["wmm"], name: "wmm_constant")
        var value = Onnx_AttributeProto()
        value.name = "value"
        value.type = .tensor
        value.t = model.graph.initializer.remove(at: index)
        constant.attribute = [value]
        model.graph.node.insert(constant, at: 0)
        let folder = try temporaryDirectory()
        let source = folder.appendingPathComponent("model.onnx")
        try write(model, to: source)
        let result = try Converter.convert(onnxAt: source.path, options: Self.pruneAll)
        XCTAssertThrowsError(try MaskedONNXExport.masked(onnxAt: source.path, masks: result.pruningMasks)) { error in
            XCTAssertTrue("\(error)".contains("takes input 1 from 'wmm', which is not an initializer"), "\(error)")
        }
    }

    /// Changes other than zeros (structured pruning) are refused, and found by comparing the graphs.
    func testRejectsChangesOtherThanZeros() throws {
        var before = try ONNXImporter.load(bytes: try Self.smallCNN().serializedBytes(), baseDirectory: nil)
        try PassPipeline.standard.run(&before)
        var after = before
        after.initializers["w2"] = IRTensorData(floats: [Float](repeating: 1, count: 32), shape: [4, 8, 1, 1])
        var changed = PruningMasks(before: before, after: after)
        XCTAssertEqual(changed.otherChanges, ["constant 'w2' changed from f32 [8, 8, 1, 1] to f32 [4, 8, 1, 1]"])
        after = before
        after.nodes.removeLast()
        changed = PruningMasks(before: before, after: after)
        XCTAssertEqual(changed.otherChanges.count, 1)
        XCTAssertThrowsError(try MaskedONNXExport.masked(onnx: try Self.smallCNN().serializedBytes(), masks: changed)) {
            XCTAssertTrue("\($0)".contains("can only express weights set to zero"), "\($0)")
        }
        // A value changed to another nonzero value is not pruning either.
        after = before
        var values = Self.values(Self.smallCNN().graph.initializer.first { $0.name == "wmm" }!)
        values[3] += 1
        after.initializers["wmm"] = IRTensorData(floats: values, shape: [6, 5])
        XCTAssertEqual(PruningMasks(before: before, after: after).otherChanges.count, 1)
    }

    /// External data is refused with a message that says so.
    func testRejectsExternalData() throws {
        var tensor = Self.floats("w", [2, 2], [1, 2, 3, 4])
        tensor.rawData = Data()
        tensor.dataLocation = .external
        var graph = IRGraph(name: "g", opsetVersion: 17)
        graph.initializers["w"] = IRTensorData(floats: [1, 2, 3, 4], shape: [2, 2])
        var pruned = graph
        pruned.initializers["w"] = IRTensorData(floats: [1, 0, 3, 0], shape: [2, 2])
        let mask = try XCTUnwrap(PruningMasks(before: graph, after: pruned).masks.first)
        XCTAssertEqual(mask.zeroedIndices, [1, 3])
        XCTAssertThrowsError(try MaskedONNXExport.zero(&tensor, at: mask)) {
            XCTAssertTrue("\($0)".contains("external file"), "\($0)")
        }
    }

    /// `sparrow convert --export-masked-onnx`.
    func testCommandWritesMaskedModel() throws {
        let folder = try temporaryDirectory()
        let source = folder.appendingPathComponent("model.onnx").path
        let output = folder.appendingPathComponent("model.sparrow").path
        let masked = folder.appendingPathComponent("masked.onnx").path
        try write(Self.smallCNN(), to: URL(fileURLWithPath: source))
        try ConvertCommand.parse([source, "-o", output, "--prune", "0.5", "--prune-skip", "none",
                                  "--export-masked-onnx", masked]).run()
        let model = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: URL(fileURLWithPath: masked)))
        let zeros = model.graph.initializer.filter { Self.weights[$0.name] != nil }
            .reduce(0) { $0 + Self.values($1).count(where: { $0 == 0 }) }
        XCTAssertEqual(zeros, (288 + 64 + 48 + 30) / 2)

        XCTAssertThrowsError(try ConvertCommand.parse([source, "-o", output, "--export-masked-onnx", source]).run()) {
            XCTAssertTrue(SparrowCommand.errorMessage(for: $0).contains("is the input itself"))
        }
    }
}
