/// Decodes the GRAPH section into declarations. Codes and counts are checked here; cross-references in
/// `GraphValidator`, blob contents in `StorageValidator`.
enum GraphDecoder {
    static func decode(_ reader: inout ByteReader) throws -> GraphDescription {
        let tensorCount = try reader.count(minimumElementSize: 7, what: "tensor")
        var tensors: [TensorDecl] = []
        tensors.reserveCapacity(tensorCount)
        for index in 0..<tensorCount {
            tensors.append(try decodeTensor(&reader, index: index))
        }
        let nodeCount = try reader.count(minimumElementSize: 18, what: "node")
        var nodes: [NodeDecl] = []
        nodes.reserveCapacity(nodeCount)
        for index in 0..<nodeCount {
            nodes.append(try decodeNode(&reader, index: index, tensorCount: tensorCount))
        }
        let inputs = try decodeIndexList(&reader, tensorCount: tensorCount, what: "graph input")
        let outputs = try decodeIndexList(&reader, tensorCount: tensorCount, what: "graph output")
        guard reader.isAtEnd else { throw reader.fail("\(reader.remaining) trailing bytes") }
        return GraphDescription(tensors: tensors, nodes: nodes, inputs: inputs, outputs: outputs)
    }

    private static func decodeIndexList(_ reader: inout ByteReader, tensorCount: Int, what: String) throws -> [Int] {
        let count = try reader.count(minimumElementSize: 4, what: what)
        var result: [Int] = []
        for _ in 0..<count {
            let index = Int(try reader.u32())
            guard index < tensorCount else { throw reader.fail("\(what) refers to tensor \(index) of \(tensorCount)") }
            result.append(index)
        }
        return result
    }

    private static func decodeTensor(_ reader: inout ByteReader, index: Int) throws -> TensorDecl {
        let name = try reader.string(what: "tensor name")
        let code = try reader.u8()
        guard let dtype = DType(rawValue: code) else { throw reader.fail("tensor '\(name)' has unknown dtype \(code)") }
        let rank = Int(try reader.u8())
        guard rank <= FormatConstants.maxRank else { throw reader.fail("tensor '\(name)' has rank \(rank) > 8") }
        var shape: [Dim] = []
        for _ in 0..<rank {
            let kind = try reader.u8()
            switch FormatConstants.DimKind(rawValue: kind) {
            case .fixed:
                let value = try reader.i64()
                guard value >= 0, value < 1 << 31 else {
                    throw reader.fail("tensor '\(name)' has dimension \(value) outside 0..<2^31")
                }
                shape.append(.fixed(Int(value)))
            case .symbolic:
                let symbol = try reader.string(what: "dimension symbol")
                guard !symbol.isEmpty else { throw reader.fail("tensor '\(name)' has an empty dimension symbol") }
                shape.append(.symbolic(symbol))
            case nil:
                throw reader.fail("tensor '\(name)' has unknown dimension kind \(kind)")
            }
        }
        let hasStorage = try reader.u8()
        var storage: StorageEncoding?
        switch hasStorage {
        case 0: storage = nil
        case 1: storage = try decodeStorage(&reader, tensor: name)
        default: throw reader.fail("tensor '\(name)' has storage flag \(hasStorage)")
        }
        return TensorDecl(name: name, dtype: dtype, shape: shape, storage: storage)
    }

    private static func blob(_ reader: inout ByteReader) throws -> BlobRef {
        let offset = try reader.size(limit: Int(Int32.max) << 16, what: "blob offset")
        let length = try reader.size(limit: Int(Int32.max) << 16, what: "blob length")
        return BlobRef(offset: offset, length: length)
    }

    private static func indexWidth(_ reader: inout ByteReader, tensor: String) throws -> IndexWidth {
        let code = try reader.u8()
        guard let width = IndexWidth(rawValue: code) else {
            throw reader.fail("tensor '\(tensor)' has index width \(code), expected 1, 2 or 4")
        }
        return width
    }

    private static func sparseValueType(_ code: UInt8, _ reader: inout ByteReader, tensor: String) throws -> Bool {
        switch code {
        case DType.float32.rawValue: return false
        case DType.int8.rawValue: return true
        default: throw reader.fail("tensor '\(tensor)' has sparse value type \(code), expected f32 or i8")
        }
    }

    private static func decodeStorage(_ reader: inout ByteReader, tensor: String) throws -> StorageEncoding {
        let code = try reader.u8()
        let limit = Int(Int32.max) << 16
        switch code {
        case 1:
            return .dense(try blob(&reader))
        case 2:
            let values = try blob(&reader)
            let scales = try blob(&reader)
            let hasZeroPoints = try reader.u8()
            guard hasZeroPoints <= 1 else { throw reader.fail("tensor '\(tensor)' has zero-point flag \(hasZeroPoints)") }
            let zeroPoints = hasZeroPoints == 1 ? try blob(&reader) : nil
            let axis = Int(try reader.u32())
            return .int8PerChannel(values: values, scales: scales, zeroPoints: zeroPoints, axis: axis)
        case 3:
            let rows = try reader.size(limit: limit, what: "CSR rows")
            let cols = try reader.size(limit: limit, what: "CSR cols")
            let nnz = try reader.size(limit: limit, what: "CSR nnz")
            let isInt8 = try sparseValueType(try reader.u8(), &reader, tensor: tensor)
            let width = try indexWidth(&reader, tensor: tensor)
            let rowPointers = try blob(&reader)
            let columnIndices = try blob(&reader)
            let values = try blob(&reader)
            let valueType: SparseValueType = isInt8 ? .int8(scales: try blob(&reader)) : .float32
            return .csr(CSRStorage(rows: rows, cols: cols, nonzeros: nnz, rowPointers: rowPointers,
                                   columnIndices: columnIndices, indexWidth: width, values: values,
                                   valueType: valueType))
        case 4:
            let rows = try reader.size(limit: limit, what: "COO rows")
            let cols = try reader.size(limit: limit, what: "COO cols")
            let nnz = try reader.size(limit: limit, what: "COO nnz")
            let isInt8 = try sparseValueType(try reader.u8(), &reader, tensor: tensor)
            let rowWidth = try indexWidth(&reader, tensor: tensor)
            let columnWidth = try indexWidth(&reader, tensor: tensor)
            let rowIndices = try blob(&reader)
            let columnIndices = try blob(&reader)
            let values = try blob(&reader)
            let valueType: SparseValueType = isInt8 ? .int8(scales: try blob(&reader)) : .float32
            return .coo(COOStorage(rows: rows, cols: cols, nonzeros: nnz, rowIndices: rowIndices,
                                   rowIndexWidth: rowWidth, columnIndices: columnIndices,
                                   columnIndexWidth: columnWidth, values: values, valueType: valueType))
        default:
            throw reader.fail("tensor '\(tensor)' has unknown storage encoding \(code)")
        }
    }

    private static func decodeNode(_ reader: inout ByteReader, index: Int, tensorCount: Int) throws -> NodeDecl {
        let code = try reader.u16()
        guard let op = OpKind(rawValue: code) else { throw reader.fail("node \(index) has unknown op code \(code)") }
        let name = try reader.string(what: "node name")
        let inputCount = try reader.count(minimumElementSize: 4, what: "node input")
        var inputs: [Int?] = []
        for _ in 0..<inputCount {
            let raw = try reader.u32()
            if raw == FormatConstants.absentInput {
                inputs.append(nil)
                continue
            }
            guard Int(raw) < tensorCount else { throw reader.fail("node '\(name)' input refers to tensor \(raw) of \(tensorCount)") }
            inputs.append(Int(raw))
        }
        let outputCount = try reader.count(minimumElementSize: 4, what: "node output")
        guard outputCount >= 1 else { throw reader.fail("node '\(name)' has no outputs") }
        var outputs: [Int] = []
        for _ in 0..<outputCount {
            let raw = Int(try reader.u32())
            guard raw < tensorCount else { throw reader.fail("node '\(name)' output refers to tensor \(raw) of \(tensorCount)") }
            outputs.append(raw)
        }
        let attributeCount = try reader.count(minimumElementSize: 6, what: "attribute")
        var attributes: [String: Attribute] = [:]
        for _ in 0..<attributeCount {
            let key = try reader.string(what: "attribute key")
            guard attributes[key] == nil else { throw reader.fail("node '\(name)' repeats attribute '\(key)'") }
            attributes[key] = try decodeAttribute(&reader, node: name, key: key)
        }
        return NodeDecl(op: op, name: name, inputs: inputs, outputs: outputs, attributes: attributes)
    }

    private static func decodeAttribute(_ reader: inout ByteReader, node: String, key: String) throws -> Attribute {
        let code = try reader.u8()
        switch FormatConstants.AttributeType(rawValue: code) {
        case .int: return .int(try reader.i64())
        case .float: return .float(try reader.f32())
        case .ints:
            let count = try reader.count(minimumElementSize: 8, what: "ints attribute")
            var values: [Int64] = []
            for _ in 0..<count { values.append(try reader.i64()) }
            return .ints(values)
        case .floats:
            let count = try reader.count(minimumElementSize: 4, what: "floats attribute")
            var values: [Float] = []
            for _ in 0..<count { values.append(try reader.f32()) }
            return .floats(values)
        case .string: return .string(try reader.string(what: "attribute '\(key)'"))
        case nil: throw reader.fail("node '\(node)' attribute '\(key)' has unknown type \(code)")
        }
    }
}
