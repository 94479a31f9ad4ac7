/// Expands int8 and sparse constant storage into dense f32 for kernels that take dense weights. Kernels that
/// consume these encodings directly read the blobs instead; this is the path for every other op.
enum ConstantDecoder {
    static func decodeToFloats(_ storage: StorageEncoding, shape: [Int], model: Model) -> [Float] {
        let count = shape.reduce(1, *)
        switch storage {
        case .dense(let blob):
            let raw = model.buffer(of: blob)
            return (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        case .int8PerChannel(let values, let scales, let zeroPoints, let axis):
            let inner = shape[(axis + 1)...].reduce(1, *)
            return decodeInt8(values: values, scales: scales, zeroPoints: zeroPoints, inner: inner, count: count,
                              model: model)
        case .csr(let csr):
            var dense = [Float](repeating: 0, count: count)
            let rowPointers = model.buffer(of: csr.rowPointers)
            for row in 0..<csr.rows {
                let begin = Int(rowPointers.loadUnaligned(fromByteOffset: row * 4, as: UInt32.self).littleEndian)
                let end = Int(rowPointers.loadUnaligned(fromByteOffset: row * 4 + 4, as: UInt32.self).littleEndian)
                for k in begin..<end {
                    let column = index(csr.columnIndices, k, csr.indexWidth, model)
                    dense[row * csr.cols + column] = value(csr.values, csr.valueType, k, row: row, model)
                }
            }
            return dense
        case .coo(let coo):
            var dense = [Float](repeating: 0, count: count)
            for k in 0..<coo.nonzeros {
                let row = index(coo.rowIndices, k, coo.rowIndexWidth, model)
                let column = index(coo.columnIndices, k, coo.columnIndexWidth, model)
                dense[row * coo.cols + column] = value(coo.values, coo.valueType, k, row: row, model)
            }
            return dense
        }
    }

    /// Element i belongs to channel (i / inner) % channels, `inner` being the product of dims after the axis.
    private static func decodeInt8(values: BlobRef, scales: BlobRef, zeroPoints: BlobRef?, inner: Int, count: Int,
                                   model: Model) -> [Float] {
        let q = model.buffer(of: values)
        let s = model.buffer(of: scales)
        let channels = scales.length / 4
        var result = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let channel = channels > 0 ? (i / max(inner, 1)) % channels : 0
            let scale = Float(bitPattern: s.loadUnaligned(fromByteOffset: channel * 4, as: UInt32.self).littleEndian)
            var zero: Int32 = 0
            if let zeroPoints { zero = Int32(model.buffer(of: zeroPoints).load(fromByteOffset: channel, as: Int8.self)) }
            result[i] = Float(Int32(q.load(fromByteOffset: i, as: Int8.self)) - zero) * scale
        }
        return result
    }

    private static func index(_ blob: BlobRef, _ k: Int, _ width: IndexWidth, _ model: Model) -> Int {
        let raw = model.buffer(of: blob)
        switch width {
        case .u8: return Int(raw.load(fromByteOffset: k, as: UInt8.self))
        case .u16: return Int(raw.loadUnaligned(fromByteOffset: k * 2, as: UInt16.self).littleEndian)
        case .u32: return Int(raw.loadUnaligned(fromByteOffset: k * 4, as: UInt32.self).littleEndian)
        }
    }

    private static func value(_ blob: BlobRef, _ type: SparseValueType, _ k: Int, row: Int, _ model: Model) -> Float {
        let raw = model.buffer(of: blob)
        switch type {
        case .float32:
            return Float(bitPattern: raw.loadUnaligned(fromByteOffset: k * 4, as: UInt32.self).littleEndian)
        case .int8(let scales):
            let scale = Float(bitPattern: model.buffer(of: scales).loadUnaligned(fromByteOffset: row * 4, as: UInt32.self).littleEndian)
            return Float(raw.load(fromByteOffset: k, as: Int8.self)) * scale
        }
    }
}
