import Sparrow

/// Blob bytes under construction: every blob starts on a 64-byte boundary of the section.
public struct BlobSection: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    /// Appends a blob; the returned reference is relative to the section start until the writer rebases it.
    public mutating func append(_ data: [UInt8]) -> BlobRef {
        let alignment = FormatConstants.alignment
        let remainder = bytes.count % alignment
        if remainder != 0 { bytes.append(contentsOf: [UInt8](repeating: 0, count: alignment - remainder)) }
        let offset = bytes.count
        bytes.append(contentsOf: data)
        return BlobRef(offset: offset, length: data.count)
    }
}

/// Serialises a graph, its blobs and metadata into a `.sparrow` file (`docs/FORMAT.md`).
public enum ModelFileWriter {
    /// - Parameters:
    ///   - graph: blob references relative to `blobs`.
    ///   - blobs: the blob section.
    ///   - metadata: key/value pairs written in order.
    public static func encode(graph: GraphDescription, blobs: BlobSection,
                              metadata: [(key: String, value: String)]) -> [UInt8] {
        let alignment = FormatConstants.alignment
        var meta = ByteWriter()
        meta.u32(UInt32(metadata.count))
        for entry in metadata {
            meta.string(entry.key)
            meta.string(entry.value)
        }
        let sectionCount = 3
        let tableOffset = FormatConstants.headerSize
        let metadataOffset = align(tableOffset + sectionCount * FormatConstants.sectionEntrySize, alignment)
        let graphOffset = align(metadataOffset + meta.count, alignment)
        // Blob references have a fixed encoded size, so the graph's length does not depend on the base.
        let graphLength = encodeGraph(graph, blobBase: 0).count
        let blobOffset = align(graphOffset + graphLength, alignment)
        let graphBytes = encodeGraph(graph, blobBase: blobOffset)
        let fileSize = blobOffset + blobs.bytes.count

        var table = ByteWriter()
        let sections: [(FormatConstants.SectionKind, Int, [UInt8], Bool)] = [
            (.metadata, metadataOffset, meta.bytes, false),
            (.graph, graphOffset, graphBytes, true),
            (.blobs, blobOffset, blobs.bytes, true),
        ]
        for (kind, offset, data, required) in sections {
            table.u32(kind.rawValue)
            table.u32(required ? FormatConstants.sectionRequiredFlag : 0)
            table.u64(UInt64(offset))
            table.u64(UInt64(data.count))
            table.u32(crc32c(data))
            table.u32(0)
        }

        var file = ByteWriter()
        file.append(FormatConstants.magic)
        file.u16(FormatConstants.majorVersion)
        file.u16(FormatConstants.minorVersion)
        file.u32(UInt32(FormatConstants.headerSize))
        file.u64(UInt64(fileSize))
        file.u64(UInt64(tableOffset))
        file.u32(UInt32(sectionCount))
        file.u32(0)
        file.u32(crc32c(table.bytes))
        file.append([UInt8](repeating: 0, count: 16))
        file.u32(crc32c(file.bytes))
        file.append(table.bytes)
        file.pad(to: alignment)
        file.append(meta.bytes)
        file.pad(to: alignment)
        file.append(graphBytes)
        file.pad(to: alignment)
        file.append(blobs.bytes)
        return file.bytes
    }

    static func align(_ value: Int, _ alignment: Int) -> Int { (value + alignment - 1) / alignment * alignment }

    static func encodeGraph(_ graph: GraphDescription, blobBase: Int) -> [UInt8] {
        var w = ByteWriter()
        w.u32(UInt32(graph.tensors.count))
        for tensor in graph.tensors {
            w.string(tensor.name)
            w.u8(tensor.dtype.rawValue)
            w.u8(UInt8(tensor.shape.count))
            for dim in tensor.shape {
                switch dim {
                case .fixed(let value):
                    w.u8(FormatConstants.DimKind.fixed.rawValue)
                    w.i64(Int64(value))
                case .symbolic(let symbol):
                    w.u8(FormatConstants.DimKind.symbolic.rawValue)
                    w.string(symbol)
                }
            }
            if let storage = tensor.storage {
                w.u8(1)
                encodeStorage(storage, into: &w, blobBase: blobBase)
            } else {
                w.u8(0)
            }
        }
        w.u32(UInt32(graph.nodes.count))
        for node in graph.nodes {
            w.u16(node.op.rawValue)
            w.string(node.name)
            w.u32(UInt32(node.inputs.count))
            for input in node.inputs { w.u32(input.map { UInt32($0) } ?? FormatConstants.absentInput) }
            w.u32(UInt32(node.outputs.count))
            for output in node.outputs { w.u32(UInt32(output)) }
            w.u32(UInt32(node.attributes.count))
            for key in node.attributes.keys.sorted() {
                w.string(key)
                encodeAttribute(node.attributes[key]!, into: &w)
            }
        }
        w.u32(UInt32(graph.inputs.count))
        for input in graph.inputs { w.u32(UInt32(input)) }
        w.u32(UInt32(graph.outputs.count))
        for output in graph.outputs { w.u32(UInt32(output)) }
        return w.bytes
    }

    private static func encodeAttribute(_ attribute: Attribute, into w: inout ByteWriter) {
        switch attribute {
        case .int(let v):
            w.u8(FormatConstants.AttributeType.int.rawValue)
            w.i64(v)
        case .float(let v):
            w.u8(FormatConstants.AttributeType.float.rawValue)
            w.f32(v)
        case .ints(let v):
            w.u8(FormatConstants.AttributeType.ints.rawValue)
            w.u32(UInt32(v.count))
            for x in v { w.i64(x) }
        case .floats(let v):
            w.u8(FormatConstants.AttributeType.floats.rawValue)
            w.u32(UInt32(v.count))
            for x in v { w.f32(x) }
        case .string(let v):
            w.u8(FormatConstants.AttributeType.string.rawValue)
            w.string(v)
        }
    }

    private static func encodeStorage(_ storage: StorageEncoding, into w: inout ByteWriter, blobBase: Int) {
        func blob(_ ref: BlobRef) {
            w.u64(UInt64(ref.offset + blobBase))
            w.u64(UInt64(ref.length))
        }
        func valueType(_ type: SparseValueType) -> UInt8 {
            if case .int8 = type { return DType.int8.rawValue }
            return DType.float32.rawValue
        }
        func scales(_ type: SparseValueType) {
            if case .int8(let s) = type { blob(s) }
        }
        w.u8(storage.code)
        switch storage {
        case .dense(let data):
            blob(data)
        case .int8PerChannel(let values, let scaleBlob, let zeroPoints, let axis):
            blob(values)
            blob(scaleBlob)
            if let zeroPoints {
                w.u8(1)
                blob(zeroPoints)
            } else {
                w.u8(0)
            }
            w.u32(UInt32(axis))
        case .csr(let c):
            w.u64(UInt64(c.rows))
            w.u64(UInt64(c.cols))
            w.u64(UInt64(c.nonzeros))
            w.u8(valueType(c.valueType))
            w.u8(c.indexWidth.rawValue)
            blob(c.rowPointers)
            blob(c.columnIndices)
            blob(c.values)
            scales(c.valueType)
        case .coo(let c):
            w.u64(UInt64(c.rows))
            w.u64(UInt64(c.cols))
            w.u64(UInt64(c.nonzeros))
            w.u8(valueType(c.valueType))
            w.u8(c.rowIndexWidth.rawValue)
            w.u8(c.columnIndexWidth.rawValue)
            blob(c.rowIndices)
            blob(c.columnIndices)
            blob(c.values)
            scales(c.valueType)
        }
    }
}
