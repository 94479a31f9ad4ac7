import Foundation
import Sparrow
import XCTest

@testable import SparrowConvert

/// Builds ONNX protobuf messages for tests with the generated types.
private enum ONNX {
    static let float: Int32 = 1, uint8: Int32 = 2, int8: Int32 = 3, int32: Int32 = 6, int64: Int32 = 7
    static let string: Int32 = 8, bool: Int32 = 9, float16: Int32 = 10, double: Int32 = 11, bfloat16: Int32 = 16

    static func rawFloats(_ name: String, _ dims: [Int64], _ values: [Float]) -> Onnx_TensorProto {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = dims
        tensor.dataType = float
        tensor.rawData = Data(littleEndianBytes(values.map(\.bitPattern)))
        return tensor
    }

    static func typedFloats(_ name: String, _ dims: [Int64], _ values: [Float]) -> Onnx_TensorProto {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = dims
        tensor.dataType = float
        tensor.floatData = values
        return tensor
    }

    static func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    }

    enum DimSpec {
        case value(Int64), param(String), empty
    }

    static func valueInfo(_ name: String, _ elemType: Int32 = float, _ dims: [DimSpec]?) -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = name
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = elemType
        if let dims {
            var shape = Onnx_TensorShapeProto()
            shape.dim = dims.map { spec in
                var dim = Onnx_TensorShapeProto.Dimension()
                switch spec {
                case .value(let v): dim.dimValue = v
                case .param(let p): dim.dimParam = p
                case .empty: break
                }
                return dim
            }
            tensorType.shape = shape
        }
        info.type.tensorType = tensorType
        return info
    }

    static func attribute(_ name: String, ints: [Int64]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .ints; a.ints = ints; return a
    }
    static func attribute(_ name: String, int: Int64) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .int; a.i = int; return a
    }
    static func attribute(_ name: String, float: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .float; a.f = float; return a
    }
    static func attribute(_ name: String, floats: [Float]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .floats; a.floats = floats; return a
    }
    static func attribute(_ name: String, string: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .string; a.s = Data(string.utf8); return a
    }
    static func attribute(_ name: String, tensor: Onnx_TensorProto) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .tensor; a.t = tensor; return a
    }

    static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "",
                     domain: String = "", attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = op
        node.input = inputs
        node.output = outputs
        node.name = name
        node.domain = domain
        node.attribute = attributes
        return node
    }

    static func model(nodes: [Onnx_NodeProto], initializers: [Onnx_TensorProto] = [],
                      inputs: [Onnx_ValueInfoProto], outputs: [Onnx_ValueInfoProto],
                      valueInfo: [Onnx_ValueInfoProto] = [], opset: Int64 = 17,
                      opsetDomain: String = "") -> Onnx_ModelProto {
        var graph = Onnx_GraphProto()
        graph.name = "test"
        graph.node = nodes
        graph.initializer = initializers
        graph.input = inputs
        graph.output = outputs
        graph.valueInfo = valueInfo
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = "sparrow-tests"
        var opsetID = Onnx_OperatorSetIdProto()
        opsetID.domain = opsetDomain
        opsetID.version = opset
        model.opsetImport = [opsetID]
        model.graph = graph
        return model
    }

    /// A model whose only node is `Identity(w) → y`, so that initializer `w` is imported and kept.
    static func modelReading(_ tensor: Onnx_TensorProto) -> Onnx_ModelProto {
        model(nodes: [node("Identity", [tensor.name], ["y"])], initializers: [tensor], inputs: [],
              outputs: [valueInfo("y", tensor.dataType == double ? float : tensor.dataType, nil)])
    }

    static func bytes(_ model: Onnx_ModelProto) throws -> [UInt8] {
        try model.serializedBytes()
    }
}

final class ONNXImportTests: XCTestCase {
    private func load(_ model: Onnx_ModelProto, baseDirectory: String? = nil) throws -> IRGraph {
        try ONNXImporter.load(bytes: ONNX.bytes(model), baseDirectory: baseDirectory)
    }

    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-onnx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    // MARK: Tensor data

    func testRawAndTypedFloatDataImportIdentically() throws {
        let values: [Float] = [1.5, -2.25, 0, .greatestFiniteMagnitude, -.leastNonzeroMagnitude, 3]
        let raw = try load(ONNX.modelReading(ONNX.rawFloats("w", [2, 3], values))).initializers["w"]
        let typed = try load(ONNX.modelReading(ONNX.typedFloats("w", [2, 3], values))).initializers["w"]
        XCTAssertEqual(raw, typed)
        XCTAssertEqual(raw?.dtype, .float32)
        XCTAssertEqual(raw?.shape, [2, 3])
        XCTAssertEqual(raw?.floatValues(), values)
    }

    func testTypedInt32DataForSmallTypes() throws {
        func imported(_ type: Int32, _ values: [Int32]) throws -> IRTensorData? {
            var tensor = Onnx_TensorProto()
            tensor.name = "w"
            tensor.dims = [Int64(values.count)]
            tensor.dataType = type
            tensor.int32Data = values
            return try load(ONNX.modelReading(tensor)).initializers["w"]
        }
        XCTAssertEqual(try imported(ONNX.int8, [-128, 5, 127]), IRTensorData(dtype: .int8, shape: [3], bytes: [0x80, 5, 0x7f]))
        XCTAssertEqual(try imported(ONNX.uint8, [0, 200, 255]), IRTensorData(dtype: .uint8, shape: [3], bytes: [0, 200, 255]))
        XCTAssertEqual(try imported(ONNX.bool, [0, 1, 7]), IRTensorData(dtype: .bool, shape: [3], bytes: [0, 1, 1]))
        XCTAssertEqual(try imported(ONNX.int32, [-1, 258]),
                       IRTensorData(dtype: .int32, shape: [2], bytes: [0xff, 0xff, 0xff, 0xff, 2, 1, 0, 0]))
        // float16 1.0 = 0x3C00, -2.0 = 0xC000, stored as bit patterns in int32_data.
        let half = try imported(ONNX.float16, [0x3C00, 0xC000])
        XCTAssertEqual(half?.bytes, [0x00, 0x3C, 0x00, 0xC0])
        XCTAssertEqual(half?.floatValues(), [1, -2])
        XCTAssertThrowsError(try imported(ONNX.int8, [300]))
    }

    func testInt64AndDoubleData() throws {
        var int64 = Onnx_TensorProto()
        int64.name = "w"
        int64.dims = [3]
        int64.dataType = ONNX.int64
        int64.int64Data = [-1, 0, 1 << 40]
        XCTAssertEqual(try load(ONNX.modelReading(int64)).initializers["w"]?.int64Values(), [-1, 0, 1 << 40])

        var typedDouble = Onnx_TensorProto()
        typedDouble.name = "w"
        typedDouble.dims = [2]
        typedDouble.dataType = ONNX.double
        typedDouble.doubleData = [0.1, -3]
        let fromTyped = try load(ONNX.modelReading(typedDouble)).initializers["w"]
        XCTAssertEqual(fromTyped?.dtype, .float32)
        XCTAssertEqual(fromTyped?.floatValues(), [Float(0.1), -3])

        var rawDouble = typedDouble
        rawDouble.doubleData = []
        rawDouble.rawData = Data(ONNX.littleEndianBytes([0.1, -3.0].map(\.bitPattern)))
        XCTAssertEqual(try load(ONNX.modelReading(rawDouble)).initializers["w"], fromTyped)
    }

    func testScalarAndEmptyTensors() throws {
        let scalar = try load(ONNX.modelReading(ONNX.typedFloats("w", [], [4]))).initializers["w"]
        XCTAssertEqual(scalar?.shape, [])
        XCTAssertEqual(scalar?.floatValues(), [4])
        let empty = try load(ONNX.modelReading(ONNX.typedFloats("w", [0, 3], []))).initializers["w"]
        XCTAssertEqual(empty?.shape, [0, 3])
        XCTAssertEqual(empty?.bytes, [])
    }

    func testUnsupportedElementTypeNamesTheTensor() throws {
        var tensor = Onnx_TensorProto()
        tensor.name = "bf16_weight"
        tensor.dims = [1]
        tensor.dataType = ONNX.bfloat16
        tensor.rawData = Data([0, 0])
        XCTAssertThrowsError(try load(ONNX.modelReading(tensor))) { error in
            guard case ConvertError.unsupportedDType(let name, let type) = error else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(name, "bf16_weight")
            XCTAssertEqual(type, 16)
            XCTAssertTrue("\(error)".contains("BFLOAT16"))
        }
    }

    func testRawDataOfWrongSizeIsRejected() throws {
        var tensor = ONNX.rawFloats("w", [2, 2], [1, 2, 3, 4])
        tensor.rawData = tensor.rawData.dropLast(4)
        XCTAssertThrowsError(try load(ONNX.modelReading(tensor))) { error in
            guard case ConvertError.invalidONNX(let message) = error else { return XCTFail("unexpected \(error)") }
            XCTAssertTrue(message.contains("'w'"), message)
        }
        // No data at all for a non-empty tensor.
        XCTAssertThrowsError(try load(ONNX.modelReading(ONNX.typedFloats("w", [2], []))))
    }

    // MARK: External data

    private func externalTensor(_ name: String, dims: [Int64], location: String, offset: Int?, length: Int?)
        -> Onnx_TensorProto
    {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = dims
        tensor.dataType = ONNX.float
        tensor.dataLocation = .external
        var entries = [("location", location)]
        if let offset { entries.append(("offset", String(offset))) }
        if let length { entries.append(("length", String(length))) }
        tensor.externalData = entries.map { key, value in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            return entry
        }
        return tensor
    }

    func testExternalDataWithOffsetAndLength() throws {
        let directory = try temporaryDirectory()
        let first: [Float] = [1, 2, 3, 4]
        let second: [Float] = [-1, -2]
        // Padding before the second tensor, as ONNX's saver aligns offsets.
        var blob = ONNX.littleEndianBytes(first.map(\.bitPattern))
        blob += [UInt8](repeating: 0xEE, count: 48)
        let secondOffset = blob.count
        blob += ONNX.littleEndianBytes(second.map(\.bitPattern))
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("data"),
                                                withIntermediateDirectories: true)
        try Data(blob).write(to: directory.appendingPathComponent("data/weights.bin"))

        let a = externalTensor("a", dims: [2, 2], location: "data/weights.bin", offset: 0, length: 16)
        let b = externalTensor("b", dims: [2], location: "data/weights.bin", offset: secondOffset, length: nil)
        let model = ONNX.model(nodes: [ONNX.node("Add", ["a", "a"], ["y"]), ONNX.node("Add", ["b", "b"], ["z"])],
                               initializers: [a, b], inputs: [],
                               outputs: [ONNX.valueInfo("y", ONNX.float, nil), ONNX.valueInfo("z", ONNX.float, nil)])
        let modelURL = directory.appendingPathComponent("model.onnx")
        try Data(try ONNX.bytes(model)).write(to: modelURL)

        let graph = try ONNXImporter.load(contentsOf: modelURL.path)
        XCTAssertEqual(graph.initializers["a"]?.floatValues(), first)
        XCTAssertEqual(graph.initializers["a"]?.shape, [2, 2])
        XCTAssertEqual(graph.initializers["b"]?.floatValues(), second)
    }

    func testExternalDataRejectsEscapingPathsAndBadRanges() throws {
        let directory = try temporaryDirectory()
        try Data(ONNX.littleEndianBytes([Float](repeating: 1, count: 4).map(\.bitPattern)))
            .write(to: directory.appendingPathComponent("w.bin"))

        func importing(_ tensor: Onnx_TensorProto) throws -> IRGraph {
            try load(ONNX.modelReading(tensor), baseDirectory: directory.path)
        }
        XCTAssertNoThrow(try importing(externalTensor("w", dims: [4], location: "w.bin", offset: nil, length: nil)))
        XCTAssertNoThrow(try importing(externalTensor("w", dims: [2], location: "./w.bin", offset: 8, length: 8)))
        for location in ["/etc/passwd", "../w.bin", "sub/../../w.bin", "..\\w.bin", "C:\\w.bin"] {
            XCTAssertThrowsError(try importing(externalTensor("w", dims: [1], location: location, offset: nil,
                                                              length: 4)), location) { error in
                guard case ConvertError.invalidONNX(let message) = error else {
                    return XCTFail("unexpected \(error) for \(location)")
                }
                XCTAssertTrue(message.contains("relative path"), message)
            }
        }
        // Past the end, overlapping the end, wrong size, negative or garbled numbers.
        XCTAssertThrowsError(try importing(externalTensor("w", dims: [1], location: "w.bin", offset: 17, length: 4)))
        XCTAssertThrowsError(try importing(externalTensor("w", dims: [2], location: "w.bin", offset: 12, length: 8)))
        XCTAssertThrowsError(try importing(externalTensor("w", dims: [2], location: "w.bin", offset: 0, length: 12)))
        XCTAssertThrowsError(try importing(externalTensor("w", dims: [4], location: "w.bin", offset: nil, length: nil)
            .withEntry("offset", "-4")))
        XCTAssertThrowsError(try importing(externalTensor("w", dims: [4], location: "w.bin", offset: nil, length: nil)
            .withEntry("length", "16 bytes")))
        XCTAssertThrowsError(try importing(externalTensor("w", dims: [4], location: "missing.bin", offset: nil,
                                                          length: nil))) { error in
            guard case ConvertError.io = error else { return XCTFail("unexpected \(error)") }
        }
        // From bytes without a directory there is nothing to resolve against.
        XCTAssertThrowsError(try load(ONNX.modelReading(externalTensor("w", dims: [4], location: "w.bin", offset: nil,
                                                                       length: nil)))) { error in
            guard case ConvertError.invalidArgument = error else { return XCTFail("unexpected \(error)") }
        }
    }

    // MARK: Graph structure

    func testSymbolicDimensions() throws {
        let model = ONNX.model(
            nodes: [ONNX.node("Relu", ["x"], ["y"])], inputs: [
                ONNX.valueInfo("x", ONNX.float, [.param("batch"), .value(3), .empty, .param("unk_0"), .value(-1)]),
            ], outputs: [ONNX.valueInfo("y", ONNX.float, nil)])
        let graph = try load(model)
        XCTAssertEqual(graph.inputs.first?.shape,
                       [.symbolic("batch"), .fixed(3), .symbolic("unk_1"), .symbolic("unk_0"), .symbolic("unk_2")])
        XCTAssertNil(graph.outputs.first?.shape, "no shape means unknown rank")
        XCTAssertEqual(graph.outputs.first?.dtype, .float32)
    }

    func testConstantNodesBecomeInitializers() throws {
        let model = ONNX.model(
            nodes: [
                ONNX.node("Constant", [], ["t"], attributes: [ONNX.attribute("value", tensor: ONNX.rawFloats("", [2], [1, 2]))]),
                ONNX.node("Constant", [], ["f"], attributes: [ONNX.attribute("value_float", float: 0.5)]),
                ONNX.node("Constant", [], ["fs"], attributes: [ONNX.attribute("value_floats", floats: [1, 2, 3])]),
                ONNX.node("Constant", [], ["i"], domain: "ai.onnx", attributes: [ONNX.attribute("value_int", int: 7)]),
                ONNX.node("Constant", [], ["is"], attributes: [ONNX.attribute("value_ints", ints: [4, 5])]),
                ONNX.node("Concat", ["t", "f", "fs"], ["y"], attributes: [ONNX.attribute("axis", int: 0)]),
                ONNX.node("Concat", ["i", "is"], ["z"], attributes: [ONNX.attribute("axis", int: 0)]),
            ],
            inputs: [], outputs: [ONNX.valueInfo("y", ONNX.float, nil), ONNX.valueInfo("z", ONNX.int64, nil)])
        let graph = try load(model)
        XCTAssertEqual(graph.nodes.map(\.opType), ["Concat", "Concat"])
        XCTAssertEqual(graph.initializers["t"]?.floatValues(), [1, 2])
        XCTAssertEqual(graph.initializers["f"], IRTensorData(floats: [0.5], shape: []))
        XCTAssertEqual(graph.initializers["fs"], IRTensorData(floats: [1, 2, 3], shape: [3]))
        XCTAssertEqual(graph.initializers["i"], IRTensorData(int64s: [7], shape: []))
        XCTAssertEqual(graph.initializers["is"], IRTensorData(int64s: [4, 5], shape: [2]))
    }

    func testInputsThatAreInitializersAreConstants() throws {
        let model = ONNX.model(
            nodes: [ONNX.node("Add", ["x", "w"], ["y"])], initializers: [ONNX.rawFloats("w", [1], [2])],
            inputs: [ONNX.valueInfo("x", ONNX.float, [.value(1)]), ONNX.valueInfo("w", ONNX.float, [.value(1)])],
            outputs: [ONNX.valueInfo("y", ONNX.float, [.value(1)])])
        let graph = try load(model)
        XCTAssertEqual(graph.inputs.map(\.name), ["x"])
        XCTAssertNotNil(graph.initializers["w"])
    }

    func testAttributesAndNodeNames() throws {
        let model = ONNX.model(
            nodes: [
                ONNX.node("Conv", ["x", "w"], ["c"], attributes: [
                    ONNX.attribute("strides", ints: [2, 2]), ONNX.attribute("group", int: 1),
                    ONNX.attribute("auto_pad", string: "NOTSET"),
                ]),
                ONNX.node("LeakyRelu", ["c"], ["l"], name: "act", attributes: [ONNX.attribute("alpha", float: 0.2)]),
                ONNX.node("Relu", ["l"], ["y"], name: "act"),
            ],
            initializers: [ONNX.rawFloats("w", [1, 1, 1, 1], [1])],
            inputs: [ONNX.valueInfo("x", ONNX.float, [.value(1), .value(1), .value(4), .value(4)])],
            outputs: [ONNX.valueInfo("y", ONNX.float, nil)])
        let graph = try load(model)
        XCTAssertEqual(graph.opsetVersion, 17)
        XCTAssertEqual(graph.producerName, "sparrow-tests")
        XCTAssertEqual(graph.nodes[0].attributes["strides"], .ints([2, 2]))
        XCTAssertEqual(graph.nodes[0].attributes["group"], .int(1))
        XCTAssertEqual(graph.nodes[0].attributes["auto_pad"], .string("NOTSET"))
        XCTAssertEqual(graph.nodes[1].attributes["alpha"], .float(0.2))
        // Unnamed and duplicate names become unique.
        XCTAssertEqual(graph.nodes.map(\.name), ["Conv_0", "act", "act_1"])
    }

    func testOpsetRange() throws {
        func model(opset: Int64, domain: String = "") -> Onnx_ModelProto {
            ONNX.model(nodes: [ONNX.node("Relu", ["x"], ["y"])], inputs: [ONNX.valueInfo("x", ONNX.float, nil)],
                       outputs: [ONNX.valueInfo("y", ONNX.float, nil)], opset: opset, opsetDomain: domain)
        }
        for opset in [7, 11, 13, 21] as [Int64] {
            XCTAssertEqual(try load(model(opset: opset)).opsetVersion, Int(opset))
        }
        XCTAssertEqual(try load(model(opset: 14, domain: "ai.onnx")).opsetVersion, 14)
        for opset in [1, 6, 22, 100] as [Int64] {
            XCTAssertThrowsError(try load(model(opset: opset))) { error in
                guard case ConvertError.unsupportedOpset(let version, _) = error else {
                    return XCTFail("unexpected \(error)")
                }
                XCTAssertEqual(version, Int(opset))
            }
        }
        XCTAssertThrowsError(try load(model(opset: 17, domain: "com.microsoft"))) { error in
            guard case ConvertError.invalidONNX = error else { return XCTFail("unexpected \(error)") }
        }
    }

    func testMalformedBytesAndDanglingValues() throws {
        XCTAssertThrowsError(try ONNXImporter.load(bytes: [0xff, 0xff, 0xff, 0x0f, 0x01], baseDirectory: nil)) { error in
            guard case ConvertError.invalidONNX = error else { return XCTFail("unexpected \(error)") }
        }
        let dangling = ONNX.model(nodes: [ONNX.node("Relu", ["nowhere"], ["y"])], inputs: [],
                                  outputs: [ONNX.valueInfo("y", ONNX.float, nil)])
        XCTAssertThrowsError(try load(dangling)) { error in
            XCTAssertTrue("\(error)".contains("nowhere"), "\(error)")
        }
        let twice = ONNX.model(nodes: [ONNX.node("Relu", ["x"], ["y"]), ONNX.node("Relu", ["x"], ["y"])],
                               inputs: [ONNX.valueInfo("x", ONNX.float, nil)],
                               outputs: [ONNX.valueInfo("y", ONNX.float, nil)])
        XCTAssertThrowsError(try load(twice))
        XCTAssertThrowsError(try ONNXImporter.load(contentsOf: "/nonexistent/model.onnx")) { error in
            guard case ConvertError.io = error else { return XCTFail("unexpected \(error)") }
        }
    }

    func testUnsortedNodesAreSortedTopologically() throws {
        let model = ONNX.model(
            nodes: [ONNX.node("Relu", ["b"], ["y"], name: "last"), ONNX.node("Relu", ["a"], ["b"], name: "middle"),
                    ONNX.node("Relu", ["x"], ["a"], name: "first")],
            inputs: [ONNX.valueInfo("x", ONNX.float, nil)], outputs: [ONNX.valueInfo("y", ONNX.float, nil)])
        XCTAssertEqual(try load(model).nodes.map(\.name), ["first", "middle", "last"])
    }

    func testSubgraphOpsAreReportedAsUnsupported() throws {
        var branch = Onnx_AttributeProto()
        branch.name = "then_branch"
        branch.type = .graph
        branch.g = Onnx_GraphProto()
        let model = ONNX.model(
            nodes: [ONNX.node("If", ["c"], ["y"], name: "if0", attributes: [branch]),
                    ONNX.node("Gelu2", ["y"], ["z"], name: "g", domain: "com.example")],
            inputs: [ONNX.valueInfo("c", ONNX.bool, [])], outputs: [ONNX.valueInfo("z", ONNX.float, nil)])
        let graph = try load(model)
        XCTAssertThrowsError(try SupportedOps.check(graph)) { error in
            guard case ConvertError.unsupportedOps(let ops) = error else { return XCTFail("unexpected \(error)") }
            XCTAssertEqual(ops.map(\.opType), ["If", "com.example:Gelu2"])
            XCTAssertEqual(ops.map(\.nodes), [["if0"], ["g"]])
        }
    }

    /// The importer reads untrusted files: corrupted models must throw, never trap. Seeded byte mutations of a
    /// small valid model, each also run through the passes when it still imports.
    func testCorruptedModelsThrowInsteadOfTrapping() throws {
        let model = ONNX.model(
            nodes: [
                ONNX.node("Conv", ["x", "w", "b"], ["c"], attributes: [ONNX.attribute("pads", ints: [1, 1, 1, 1])]),
                ONNX.node("BatchNormalization", ["c", "s", "b", "b", "s"], ["n"]),
                ONNX.node("Reshape", ["n", "shape"], ["r"]),
                ONNX.node("Clip", ["r"], ["y"], attributes: [ONNX.attribute("min", float: 0), ONNX.attribute("max", float: 6)]),
            ],
            initializers: [ONNX.rawFloats("w", [2, 1, 3, 3], [Float](repeating: 0.5, count: 18)),
                           ONNX.typedFloats("b", [2], [0, 1]), ONNX.rawFloats("s", [2], [1, 2]),
                           { var t = Onnx_TensorProto(); t.name = "shape"; t.dims = [2]; t.dataType = ONNX.int64
                             t.int64Data = [1, -1]; return t }()],
            inputs: [ONNX.valueInfo("x", ONNX.float, [.param("N"), .value(1), .value(4), .value(4)])],
            outputs: [ONNX.valueInfo("y", ONNX.float, nil)], opset: 10)
        let original = try ONNX.bytes(model)
        XCTAssertNoThrow(try ONNXImporter.load(bytes: original, baseDirectory: nil))
        var state: UInt64 = 0x5EED
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        var imported = 0
        for _ in 0..<3000 {
            var bytes = original
            for _ in 0..<(1 + next() % 4) {
                let position = next() % bytes.count
                switch next() % 3 {
                case 0: bytes[position] = UInt8(truncatingIfNeeded: next())
                case 1: bytes[position] ^= UInt8(1 << (next() % 8))
                default: bytes.removeSubrange(position..<min(bytes.count, position + 1 + next() % 8))
                }
                if bytes.isEmpty { bytes = [0] }
            }
            guard var graph = try? ONNXImporter.load(bytes: bytes, baseDirectory: nil) else { continue }
            imported += 1
            _ = try? PassPipeline.standard.run(&graph)
        }
        XCTAssertGreaterThan(imported, 0, "some mutations keep the model valid and exercise the passes")
    }

    // MARK: End to end

    /// Conv → BatchNormalization → Relu exported at opset 11 becomes one Conv with a fused Relu.
    func testImportAndStandardPipeline() throws {
        let model = ONNX.model(
            nodes: [
                ONNX.node("Conv", ["x", "w"], ["c"], name: "conv"),
                ONNX.node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"], name: "bn"),
                ONNX.node("Relu", ["n"], ["r"], name: "relu"),
                ONNX.node("Identity", ["r"], ["y"], name: "id"),
            ],
            initializers: [ONNX.rawFloats("w", [2, 1, 1, 1], [1, 2]), ONNX.rawFloats("s", [2], [1, 1]),
                           ONNX.rawFloats("b", [2], [0, 1]), ONNX.rawFloats("m", [2], [0, 0]),
                           ONNX.rawFloats("v", [2], [1, 1])],
            inputs: [ONNX.valueInfo("x", ONNX.float, [.param("N"), .value(1), .value(2), .value(2)])],
            outputs: [ONNX.valueInfo("y", ONNX.float, nil)], opset: 11)
        var graph = try load(model)
        try PassPipeline.standard.run(&graph)
        XCTAssertEqual(graph.nodes.map(\.opType), ["Conv"])
        XCTAssertEqual(graph.nodes[0].outputs, ["y"])
        XCTAssertEqual(graph.nodes[0].attributes["activation"], .int(FusedActivation.relu.rawValue))
        XCTAssertEqual(Set(graph.initializers.keys), Set(graph.nodes[0].inputs.dropFirst()), "BN parameters pruned")
    }

    // MARK: Fixtures

    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").resolvingSymlinksInPath()

    /// Paths of every fixture model (made by `scripts/make_fixtures.py`), relative to the fixtures directory.
    private func fixtureModels() throws -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: Self.fixtures.path) else {
            throw XCTSkip("no fixtures at \(Self.fixtures.path)")
        }
        let models = enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix(".onnx") }.sorted()
        guard !models.isEmpty else { throw XCTSkip("no .onnx fixtures yet") }
        return models
    }

    /// Every fixture imports and goes through the standard pipeline (without constant folding) to the
    /// supported-ops check.
    func testFixtureModelsImportAndPassThePipeline() throws {
        for relative in try fixtureModels() {
            let path = Self.fixtures.appendingPathComponent(relative).path
            XCTAssertNoThrow(try {
                var graph = try ONNXImporter.load(contentsOf: path)
                try PassPipeline.standard.run(&graph)
            }(), relative)
        }
    }

    /// What the passes make of fixtures built to exercise them.
    func testFixturePassResults() throws {
        func converted(_ name: String) throws -> IRGraph? {
            let path = Self.fixtures.appendingPathComponent("\(name)/model.onnx").path
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            var graph = try ONNXImporter.load(contentsOf: path)
            try PassPipeline.standard.run(&graph)
            return graph
        }
        _ = try fixtureModels()
        let activation = { (graph: IRGraph?) in graph?.nodes.first?.attributes["activation"] }
        if let g = try converted("conv_bn_relu") {
            XCTAssertEqual(g.nodes.map(\.opType), ["Conv"])
            XCTAssertEqual(activation(g), .int(FusedActivation.relu.rawValue))
        }
        if let g = try converted("conv_sigmoid_mul") {
            XCTAssertEqual(g.nodes.map(\.opType), ["Conv"])
            XCTAssertEqual(activation(g), .int(FusedActivation.silu.rawValue))
        }
        if let g = try converted("conv_clip") {
            XCTAssertEqual(g.nodes.map(\.opType), ["Conv"])
            XCTAssertEqual(g.nodes.first?.attributes["activation_beta"], .float(6))
        }
        if let g = try converted("hardsigmoid_alpha_sixth") {
            XCTAssertEqual(g.nodes.map(\.opType), ["HardSigmoid"], "no Mul: not a HardSwish")
        }
        if let g = try converted("channel_shuffle") {
            XCTAssertEqual(g.nodes.map(\.opType), ["ChannelShuffle"])
            XCTAssertEqual(g.nodes.first?.attributes["group"], .int(2))
        }
        if let g = try converted("softmax_axis1_opset11") {
            XCTAssertEqual(g.nodes.map(\.opType), ["Flatten", "Softmax", "Reshape"])
        }
        if let g = try converted("softmax_default_opset11") {
            XCTAssertEqual(g.nodes.map(\.opType), ["Softmax"], "axis 1 of a rank-2 input is the last")
        }
        if let g = try converted("gelu_erf_pattern") {
            XCTAssertEqual(g.nodes.map(\.opType), ["Gelu"])
        }
        if let g = try converted("identity_dropout") {
            XCTAssertFalse(g.nodes.contains { $0.opType == "Identity" || $0.opType == "Dropout" })
        }
        if let g = try converted("clip_opset10_attributes") {
            XCTAssertEqual(g.nodes.first?.inputs.count, 3)
            XCTAssertEqual(g.nodes.first?.attributes, [:])
        }
    }
}

private extension Onnx_TensorProto {
    func withEntry(_ key: String, _ value: String) -> Onnx_TensorProto {
        var copy = self
        copy.externalData.removeAll { $0.key == key }
        var entry = Onnx_StringStringEntryProto()
        entry.key = key
        entry.value = value
        copy.externalData.append(entry)
        return copy
    }
}
